/** Topology documents for tests: one app `shop` with a `db` (one container at most) and a `web` tier. */
export function shopTopology(options: {
  nodes?: { name: string; docker: string; cpu_cores?: number; mem_units?: number }[];
  elastic?: boolean;
  image?: string;
  tiers?: Record<string, Record<string, unknown>>;
  infrastructure?: Record<string, unknown>;
} = {}) {
  const image = options.image ?? 'busybox';
  const cloud = options.elastic
    ? { cloud_driver: { type: 'aws', autoscaling_groupname: 'fake-group', region: 'eu-west-1' } }
    : { cloud_driver: { type: 'static', nodes: options.nodes ?? [{ name: 'node1', docker: 'tcp://node1:2375' }] } };
  return {
    infrastructure: { ...cloud, cpu_cores: 4, mem_units: 8, mem_unit_mb: 16, ...options.infrastructure },
    apps: [{
      name: 'shop',
      tiers: options.tiers ?? {
        db: { max_node: 1, docker_image: image },
        web: { docker_image: image, depends_on: ['db'] },
      },
    }],
  };
}
