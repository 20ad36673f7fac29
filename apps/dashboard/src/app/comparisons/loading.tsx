import { Loading } from '@/components/pending.tsx';

export default function ComparisonsLoading() {
  return <Loading what="comparisons" />;
}
