/**
 * The shell of every view: the header, with who is signed in (read from the session cookie on the
 * server, in its own Suspense boundary so that the page does not wait for it). No environment is
 * read here: server code that needs the API's address reads it where it is used.
 */
import type { Metadata } from 'next';
import { type ReactNode, Suspense } from 'react';
import { NavBar } from '@/components/nav-bar.tsx';
import { Who } from '@/components/who.tsx';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'excite', template: '%s · excite' },
  description: 'Most exciting inputs for visual neurons: launch runs, watch them sample, compare MEIs across architectures',
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <NavBar
          who={
            <Suspense fallback={null}>
              <Who />
            </Suspense>
          }
        />
        <main>{children}</main>
      </body>
    </html>
  );
}
