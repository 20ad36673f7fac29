import type { RunStatus } from '@excite/sdk';

export function StatusBadge({ status }: { status: RunStatus }) {
  return <span className={`status status-${status.toLowerCase()}`}>{status.toLowerCase()}</span>;
}
