import { Loading } from '@/components/pending.tsx';

export default function RecordingLoading() {
  return <Loading what="the recording's analysis" />;
}
