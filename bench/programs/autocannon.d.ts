// The part of autocannon's API that autocannon-load.ts uses (the package ships no types, and
// @types/autocannon would be a dependency for these few lines).
declare module 'autocannon' {
  interface Options {
    url: string;
    connections: number;
    duration: number;
    timeout: number;
    requests: { method: string; path: string }[];
  }
  interface Result {
    requests: { total: number };
    duration: number;
    throughput: { total: number };
    errors: number;
    timeouts: number;
    non2xx: number;
    latency: { p50: number; p99: number; max: number; mean: number };
  }
  export default function autocannon(options: Options): Promise<Result>;
}
