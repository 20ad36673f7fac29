'use client';
/** The header: the views (the current one marked), and who is signed in (`who`, rendered on the server). */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import type { ReactNode } from 'react';

const LINKS = [
  { href: '/', label: 'Overview' },
  { href: '/runs/new', label: 'Launch' },
  { href: '/neurons', label: 'Neurons' },
  { href: '/comparisons', label: 'Comparisons' },
  { href: '/recordings', label: 'Recordings' },
  { href: '/datasets', label: 'Datasets' },
  { href: '/trainings', label: 'Trainings' },
];

export function NavBar({ who }: { who: ReactNode }) {
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
      <div className="who">{who}</div>
    </header>
  );
}
