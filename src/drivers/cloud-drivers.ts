import { Resources } from '../domain/resources';
import { CloudConfig } from '../domain/topology';
import { CloudDriver } from '../ports/cloud-driver';
import { ContainerRuntimeFactory } from '../ports/container-runtime';
import { StaticCloudDriver } from './static/static-cloud-driver';

/**
 * The cloud driver of a topology's `cloud` block, by its type. The AWS SDK takes longer to load than
 * the rest of the daemon: only a topology on AWS loads it.
 */
export function cloudsByType(runtimeFor: ContainerRuntimeFactory): (cloud: CloudConfig, vmSize: Resources) => Promise<CloudDriver> {
  return async (cloud, vmSize) => (cloud.type === 'static'
    ? new StaticCloudDriver(cloud, vmSize, runtimeFor)
    : new (await import('./aws/aws-cloud-driver')).AwsCloudDriver(cloud, vmSize, runtimeFor));
}
