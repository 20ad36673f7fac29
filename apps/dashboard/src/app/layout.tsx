/**
 * The shell of every view: the API's location (from the server's environment at request time, so
 * one build serves any deployment), the signed-in client, the header.
 */
import type { Metadata } from 'next';
import { connection } from 'next/server';
import type { ReactNode } from 'react';
import { NavBar } from '@/components/nav-bar.tsx';
import { apiLocationFromEnv } from '@/lib/api-url.ts';
import { ExciteProvider } from '@/lib/excite-context.tsx';
import './globals.css';

export const metadata: Metadata = {
  title: { default: 'excite', template: '%s · excite' },
  description: 'Most exciting inputs for visual neurons: launch runs, watch them sample, compare MEIs across architectures',
};

export default async function RootLayout({ children }: { children: ReactNode }) {
  await connection();
  const api = apiLocationFromEnv(process.env);
  return (
    <html lang="en">
      <body>
        <ExciteProvider api={api}>
          <NavBar />
          <main>{children}</main>
        </ExciteProvider>
      </body>
    </html>
  );
}
