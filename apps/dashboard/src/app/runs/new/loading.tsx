import { Loading } from '@/components/pending.tsx';

export default function LaunchLoading() {
  return <Loading what="the launch form" />;
}
