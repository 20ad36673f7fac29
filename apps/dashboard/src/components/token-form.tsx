'use client';
/** Token entry: paste the token `excite serve` printed (or one from `excite token create`). */
import { type FormEvent, useState } from 'react';
import { useExcite } from '@/lib/excite-context.tsx';
import { TOKEN_PATTERN } from '@/lib/token-store.ts';

export function TokenForm({ notice }: { notice?: string }) {
  const { signIn, url } = useExcite();
  const [value, setValue] = useState('');
  const valid = TOKEN_PATTERN.test(value.trim());
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (valid) signIn(value);
  };
  return (
    <form className="token-form card" onSubmit={submit} aria-label="sign in">
      <h2>Sign in with a token</h2>
      {notice && <p className="error-text">{notice}</p>}
      <p>
        The first start of <code>npm start</code> prints an admin token and a link that signs in at once. Otherwise make one with <code>npx excite token create --role read|run|admin</code>. It is kept in
        this browser only.
      </p>
      <label>
        Token
        <input name="token" type="password" autoComplete="off" placeholder="exc_…" value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <button type="submit" disabled={!valid}>
        Sign in
      </button>
      <p className="muted">API: {url}</p>
    </form>
  );
}
