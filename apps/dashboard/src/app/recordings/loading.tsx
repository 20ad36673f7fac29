import { Loading } from '@/components/pending.tsx';

export default function RecordingsLoading() {
  return <Loading what="recordings" />;
}
