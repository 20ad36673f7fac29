import Link from 'next/link';

export default function NotFound() {
  return (
    <div className="card">
      <h2>No such page</h2>
      <Link href="/">Back to the overview</Link>
    </div>
  );
}
