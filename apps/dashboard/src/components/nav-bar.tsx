'use client';
/** The header: the views, and who is signed in with which role. */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useExcite } from '@/lib/excite-context.tsx';
import { ROLE_LABEL } from '@/lib/roles.ts';

const LINKS = [
  { href: '/', label: 'Overview' },
  { href: '/runs/new', label: 'Launch' },
  { href: '/neurons', label: 'Neurons' },
  { href: '/comparisons', label: 'Comparisons' },
];

export function NavBar() {
  const { viewer, signOut } = useExcite();
  const path = usePathname();
  const active = (href: string) => (href === '/' ? path === '/' : path.startsWith(href.split('/').slice(0, 2).join('/')));
  return (
    <header className="nav-bar">
      <Link href="/" className="brand">
        excite
      </Link>
      <nav>
        {LINKS.map((l) => (
          <Link key={l.href} href={l.href} className={active(l.href) ? 'active' : undefined}>
            {l.label}
          </Link>
        ))}
      </nav>
      <div className="who">
        {viewer ? (
          <>
            <span data-testid="viewer">
              {viewer.name} · <span className={`role role-${viewer.role.toLowerCase()}`}>{ROLE_LABEL[viewer.role]}</span>
            </span>
            <button type="button" className="link-button" onClick={signOut}>
              Sign out
            </button>
          </>
        ) : (
          <span className="muted">not signed in</span>
        )}
      </div>
    </header>
  );
}
