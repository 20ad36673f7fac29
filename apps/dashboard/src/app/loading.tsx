import { Loading } from '@/components/pending.tsx';

export default function RootLoading() {
  return <Loading what="the page" />;
}
