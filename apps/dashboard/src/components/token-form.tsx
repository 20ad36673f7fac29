'use client';
/**
 * Token entry: paste the token `excite serve` printed (or one from `excite token create`). The form
 * posts to /sign-in, which checks the token and keeps it in an HTTP-only cookie.
 */
import { useState } from 'react';

export const TOKEN_PATTERN = /^exc_[A-Za-z0-9_-]{20,}$/;

export function TokenForm({ notice, next }: { notice?: string; next?: string }) {
  const [value, setValue] = useState('');
  const valid = TOKEN_PATTERN.test(value.trim());
  return (
    <form className="token-form card" action="/sign-in" method="post" aria-label="sign in" onSubmit={(e) => !valid && e.preventDefault()}>
      <h2>Sign in with a token</h2>
      {notice && <p className="error-text">{notice}</p>}
      <p>
        The first start of <code>npm start</code> prints an admin token and a link that signs in at once. Otherwise make one with <code>npx excite token create --role read|run|admin</code>. The
        dashboard keeps it in an HTTP-only cookie of this browser.
      </p>
      {next && <input type="hidden" name="next" value={next} />}
      <label>
        Token
        <input name="token" type="password" autoComplete="off" placeholder="exc_…" value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <button type="submit" disabled={!valid}>
        Sign in
      </button>
    </form>
  );
}
