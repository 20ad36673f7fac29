import { Loading } from '@/components/pending.tsx';

export default function NeuronsLoading() {
  return <Loading what="neurons" />;
}
