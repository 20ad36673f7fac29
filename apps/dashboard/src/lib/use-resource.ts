'use client';
/**
 * Data of the signed-in client for one view: loading, its value, or the error (with a retry).
 * `load` runs again when `deps` change or `reload` is called; `every` (ms) polls while the view
 * shows something that changes on its own (queued runs, a comparison filling in).
 */
import type { ExciteClient } from '@excite/sdk';
import { type DependencyList, useCallback, useEffect, useRef, useState } from 'react';
import { useExcite } from './excite-context.tsx';

export type Resource<T> =
  | { status: 'loading'; reload(): void }
  | { status: 'error'; error: Error; reload(): void }
  | { status: 'ready'; data: T; reload(): void };

export function useResource<T>(load: (client: ExciteClient, signal: AbortSignal) => Promise<T>, deps: DependencyList, options: { every?: number | ((data: T) => number | undefined) } = {}): Resource<T> {
  const { client } = useExcite();
  const [state, setState] = useState<{ status: 'loading' } | { status: 'error'; error: Error } | { status: 'ready'; data: T }>({ status: 'loading' });
  const [round, setRound] = useState(0);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  const loadRef = useRef(load);
  loadRef.current = load;
  const everyRef = useRef(options.every);
  everyRef.current = options.every;

  useEffect(() => {
    if (!client) return;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    loadRef.current(client, abort.signal).then(
      (data) => {
        if (abort.signal.aborted) return;
        setState({ status: 'ready', data });
        const every = typeof everyRef.current === 'function' ? everyRef.current(data) : everyRef.current;
        if (every) timer = setTimeout(() => setRound((n) => n + 1), every);
      },
      (error: unknown) => {
        if (abort.signal.aborted) return;
        setState({ status: 'error', error: error instanceof Error ? error : new Error(String(error)) });
      },
    );
    return () => {
      abort.abort();
      clearTimeout(timer);
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [client, round, ...deps]);

  return { ...state, reload } as Resource<T>;
}
