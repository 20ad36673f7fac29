import { Loading } from '@/components/pending.tsx';

export default function BatchLoading() {
  return <Loading what="the batch" />;
}
