import { SystemHealthcheck, SystemMount } from '../domain/system-tier';
import { PortMapping } from '../domain/topology';
import { EngineEndpoint } from '../domain/vm';

/** What a container of a system (a compose service) needs beyond an ordinary tier's container. */
export interface SystemContainerSpec {
  sid: string;
  /** The system's namespace (compose project scope) and this container's service, kept on the container. */
  namespace: string;
  service: string;
  /** User-defined network joined on the node (created when missing), with the service name as alias. */
  network: string;
  entrypoint?: string[];
  healthcheck?: SystemHealthcheck;
  mounts: SystemMount[];
  restart?: { policy: 'no' | 'always' | 'on-failure' | 'unless-stopped'; maxRetries?: number };
  /** Published on host ports the runtime chooses from `hostPortRange`, never one in use on the node. */
  publish: { containerPort: number; protocol: 'tcp' | 'udp' }[];
  hostPortRange: { first: number; last: number };
  /** Ports this container had before on this node (`8080/tcp` -> 20001): taken again when free. */
  preferredHostPorts: Record<string, number>;
  labels: Record<string, string>;
}

/** What the executor asks an engine to run for one tier on one VM. */
export interface ContainerSpec {
  /** Container name: the tier's flat name. */
  name: string;
  app: string;
  tier: string;
  vm: string;
  image: string;
  cpuset: number[];
  memoryMb: number;
  ports: PortMapping[];
  environment: Record<string, string>;
  /** Arguments after the image's entrypoint (Docker `Cmd`), never through a shell. */
  args: string[];
  /** `/etc/hosts` entries. */
  extraHosts: { host: string; address: string }[];
  /** Further labels (e.g. to find test containers); the runtime's own marks always take precedence. */
  labels?: Record<string, string>;
  /** Set for the containers of a system (src/schema/compose). */
  system?: SystemContainerSpec;
  /** The tier's own volumes and host paths; a named volume missing on the node is created (labelled managed) first. */
  mounts?: SystemMount[];
}

/** A volume on a node, as its engine reports it. */
export interface NodeVolume {
  name: string;
  driver: string;
  driver_opts: Record<string, string>;
  labels: Record<string, string>;
  /** Created by the daemon (carries the managed label). */
  managed: boolean;
  /** Names of the containers that mount it, running or not. */
  used_by: string[];
}

/** What a node volume is created with. */
export interface NodeVolumeSpec {
  name: string;
  driver: string;
  driverOpts: Record<string, string>;
  labels: Record<string, string>;
}

/** A managed container as its engine reports it. */
export interface ManagedContainer {
  id: string;
  name: string;
  app: string;
  tier: string;
  /** The tier's flat name. */
  flatTier: string;
  /** The VM label it was created with. */
  vm: string;
  image: string;
  /** e.g. `running`, `exited`, `created`. */
  state: string;
  /** Cores from HostConfig.CpusetCpus, sorted. */
  cpuset: number[];
  /** How many cores it holds, reported by a runtime that does not pin cores (its cpuset is then empty). */
  cpuCores?: number;
  /** `CpusetCpus` exactly as the engine reports it, e.g. `"0,1"`. */
  cpusetCpus: string;
  /** HostConfig.Memory in bytes (0 = unlimited). */
  memoryBytes: number;
  memorySwapBytes: number;
  /** `starting`, `healthy`, `unhealthy`; undefined without a healthcheck. */
  health?: string;
  /** Sid of the system it belongs to, if any. */
  system?: string;
  /** Host ports the daemon chose for it (`8080/tcp` -> 20001). */
  hostPorts?: Record<string, number>;
  exitCode?: number;
}

/** The cheap view of a managed container: enough to tell whether it still exists and runs. */
export interface ManagedContainerState {
  id: string;
  flatTier: string;
  vm: string;
  state: string;
}

export interface ExecOptions {
  argv: string[];
  env?: Record<string, string>;
  cwd?: string;
  stdin?: string | Buffer;
  timeoutMs: number;
  /** Largest stdout / stderr kept, each; the rest is dropped and `truncated` set. */
  maxOutputBytes?: number;
  signal?: AbortSignal;
}

export interface ExecResult {
  /** null when the process was killed (timeout, cancel). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  cancelled: boolean;
  truncated: boolean;
  durationMs: number;
}

export interface EngineInfo {
  cpus: number;
  memoryBytes: number;
  serverVersion: string;
}

/** The engine itself: whether it answers, its size, the address of its node. */
export interface RuntimeEngine {
  readonly endpoint: EngineEndpoint;
  /** Resolves when the engine answers; rejects with InfrastructureError otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  info(): Promise<EngineInfo>;
  /** Address containers on other nodes can use to reach ports published on this one, when the engine can tell. */
  hostAddress(): Promise<string | undefined>;
}

/** Required: the managed containers of the engine and their lifecycle. */
export interface RuntimeContainers {
  /** Every managed container, in full (cores, memory, health, host ports). */
  listManaged(): Promise<ManagedContainer[]>;
  /** Id, tier and engine state of every managed container, in one engine call (no per-container inspect). */
  listManagedStates(): Promise<ManagedContainerState[]>;
  /** Creates and starts the container; a stale container of the same name is replaced. */
  create(spec: ContainerSpec): Promise<ManagedContainer>;
  /** Resizes in place: same container, new cpuset and memory (swap limited to the same value). */
  update(id: string, change: { cpuset: number[]; memoryMb: number }): Promise<ManagedContainer>;
  /** Starts a stopped or never-started container (same id, same cores); one already running is left as it is. */
  start(id: string): Promise<ManagedContainer>;
  remove(id: string): Promise<void>;
}

/** Required: processes and files inside a running container (hooks, process definitions). */
export interface RuntimeExecAndFiles {
  exec(id: string, options: ExecOptions): Promise<ExecResult>;
  /** Writes a file into the container (no bind mount), creating parent directories. */
  putFile(id: string, path: string, content: string | Buffer, mode?: number): Promise<void>;
  /** Reads a file from the container. */
  readFile(id: string, path: string): Promise<Buffer>;
}

/** Optional: the volumes of the node (GET/POST/DELETE /api/nodes/:name/volumes). */
export interface RuntimeVolumes {
  /** Every volume of the node, with the containers that mount it. */
  list(): Promise<NodeVolume[]>;
  /** Creates a volume (labelled managed); the engine's answer for an existing name is not trusted, callers check first. */
  create(spec: NodeVolumeSpec): Promise<NodeVolume>;
  /** Removes a volume; NotFoundError when it is not there, ConflictError when a container uses it. */
  remove(name: string): Promise<void>;
}

/**
 * Optional: what the containers of systems (compose files) need on a node besides an ordinary
 * container, a user-defined network per system (services find each other by name) and the system's
 * named volumes, made by `create` for a spec with `system`; and their removal.
 */
export interface RuntimeSystemNetworks {
  /** Removes the networks of a system on this node, and its volumes when asked; answers what it removed. */
  remove(sid: string, options: { volumes: boolean }): Promise<{ networks: string[]; volumes: string[] }>;
  /** Names of the volumes of a system that exist on this node. */
  listVolumes(sid: string): Promise<string[]>;
}

/** A run-to-completion container: one attempt of a job (SPEC §10). */
export interface TaskSpec {
  /** Container name, unique on the node (e.g. `ecoware-job-<id>-<attempt>`). */
  name: string;
  image: string;
  /** Replaces the image's entrypoint when set. */
  entrypoint?: string[];
  /** Arguments (Docker `Cmd`), never through a shell unless the argv names one. */
  argv: string[];
  env: Record<string, string>;
  /** Working directory; the image's when absent. */
  cwd?: string;
  /** Cores it is pinned to (like a tier's container) and its memory limit. */
  cpuset: number[];
  memoryMb: number;
  /** Written to the process's stdin, which is then closed; absent = no stdin. */
  stdin?: Buffer;
  /** Files placed in the container before it starts (e.g. `/ecoware/input`), parents created. */
  files?: { path: string; content: Buffer }[];
  /** The task's identity, read back by `list` after a restart (job id, attempt, …). */
  labels: Record<string, string>;
}

/** A task container as its engine reports it. */
export interface TaskState {
  id: string;
  name: string;
  /** The labels it was started with (`TaskSpec.labels`). */
  labels: Record<string, string>;
  /** `created`, `running`, `exited`, … */
  state: string;
  cpuset: number[];
  memoryBytes: number;
  startedAt?: string;
  finishedAt?: string;
  /** Set once it has exited. */
  exitCode?: number;
  /** The kernel killed it for going over its memory limit. */
  oomKilled?: boolean;
}

/** Which stream a piece of a task's output came from. */
export type TaskStream = 'stdout' | 'stderr';

/**
 * Optional: containers that run to completion (jobs). They are not managed containers: they never
 * appear in `listManaged`/`listManagedStates`, so drift repair never sees, restarts or removes them.
 */
export interface RuntimeTasks {
  /**
   * Creates and starts a task; a stale task of the same name is replaced, any other container of that
   * name is a ConflictError (and left alone). An image the engine lacks is pulled, as `docker run` does.
   */
  start(spec: TaskSpec): Promise<TaskState>;
  /**
   * Resolves when the task has exited (at once when it already has); rejects with `signal`'s reason
   * when aborted, NotFoundError when there is no such task (or it is removed meanwhile).
   */
  wait(id: string, signal?: AbortSignal): Promise<TaskState>;
  /** Its state now, undefined when the container is gone (or is no task: other containers are never a task's business). */
  inspect(id: string): Promise<TaskState | undefined>;
  /**
   * Its output from `since` (ms since the epoch, default: from the start), chunk by chunk as the
   * engine demultiplexes it; with `follow` until the task exits or `signal` aborts, then resolves.
   * Without `follow`, what the engine holds up to now. NotFoundError when there is no such task.
   */
  logs(id: string, options: { follow: boolean; since?: number; signal?: AbortSignal; onChunk: (stream: TaskStream, data: Buffer) => void }): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceS`; a task that has exited or is gone is left as it is. */
  stop(id: string, graceS: number): Promise<void>;
  /**
   * A file of a task, running or exited, at most `maxBytes` (more: `truncated`); undefined when the
   * file is not there, NotFoundError when the task is not.
   */
  readFile(id: string, path: string, maxBytes: number): Promise<{ content: Buffer; truncated: boolean } | undefined>;
  /** Every task container of the engine, running or exited. */
  list(): Promise<TaskState[]>;
  /** Removes a task's container; one that is gone is no error. */
  remove(id: string): Promise<void>;
}

/** What building a job template's image from an install script asks of an engine. */
export interface ImageBuildSpec {
  /** Image the script runs in (it must exist on the node). */
  baseImage: string;
  /** Shell script text, run with `/bin/sh` in `cwd`. */
  script: string;
  /** Working directory the script runs in and the built image starts in (created when missing). */
  cwd: string;
  /** Reference of the image to make, e.g. `ecoware-job/<name>:<rev>`. */
  ref: string;
  /** The built image's default command. */
  command: string[];
  /**
   * Run in a container of the built image after the build, without the image's entrypoint, in its
   * working directory; the build fails unless it exits 0 (e.g. `test -x main.sh`).
   */
  check?: string[];
  /** Budget of the script, and apart of the check: one that outlives it is killed and exits 124. */
  timeoutMs: number;
  /** Labels of the image. */
  labels: Record<string, string>;
}

export interface ImageBuildResult {
  /** The script's exit code (non-zero: no image is kept). */
  exitCode: number;
  /** The check's exit code, when one ran. */
  checkExitCode?: number;
  /** The last bytes of the script's (and check's) combined output, for the template's reason. */
  output: string;
  /** Set when an image was made. */
  imageId?: string;
}

/**
 * Optional: images of the node, for jobs: whether one is there, building a template's image from a
 * script, and moving images between engines without a registry (save on one, load into another).
 */
export interface RuntimeImages {
  has(ref: string): Promise<boolean>;
  /**
   * Runs the script in a container of `baseImage` and keeps the result as `ref` when it (and the
   * check) exit 0, with the base image's entrypoint, `command` and `cwd`; the containers it used are
   * removed in every case. A failed script is a result, not an error.
   */
  build(spec: ImageBuildSpec): Promise<ImageBuildResult>;
  /** The image as a tar archive stream (`docker save`); NotFoundError when the image is not there. */
  save(ref: string): Promise<NodeJS.ReadableStream>;
  /** Loads an archive made by `save` (`docker load`). */
  load(archive: NodeJS.ReadableStream): Promise<void>;
  /** Removes an image; one that is gone is no error, one in use is a ConflictError. */
  remove(ref: string): Promise<void>;
}

/**
 * One node's container engine, limited to what the executor needs: the engine, its containers, and
 * exec and files are required of every runtime; node volumes and system networks are capabilities a
 * runtime has (an object) or lacks (undefined). Operations are idempotent where the engine allows it:
 * removing a container that is gone succeeds.
 */
export interface ContainerRuntime extends RuntimeEngine, RuntimeContainers, RuntimeExecAndFiles {
  /**
   * Whether a container runs on the cores its spec names (Docker's cpuset). A runtime that cannot
   * pin cores reports an empty cpuset and the number of cores in `cpuCores`: the translator then
   * moves no container for its cores alone, and drift repair compares the number of cores, memory
   * and state, not which cores.
   */
  readonly pinsCores: boolean;
  readonly volumes?: RuntimeVolumes;
  readonly systemNetworks?: RuntimeSystemNetworks;
  /** Run-to-completion containers (jobs). */
  readonly tasks?: RuntimeTasks;
  /** Images: presence, building from a script, moving between engines. */
  readonly images?: RuntimeImages;
}

/** Connects to one engine of one kind: a runtime driver's entry in the table by kind (drivers/runtime-drivers.ts). */
export type RuntimeDriver = (endpoint: EngineEndpoint) => ContainerRuntime;

/** The runtime of a VM (or of any node that names its engine), one client per endpoint. */
export type ContainerRuntimeFactory = (vm: { readonly engine: EngineEndpoint }) => ContainerRuntime;
