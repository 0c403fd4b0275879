/**
 * The labels by which the Docker driver marks what the daemon made and reads it back after a
 * restart: containers (what they are), and the networks and volumes of systems. Other runtimes keep
 * this knowledge their own way; nothing above the driver knows these keys.
 */
export const LABEL_MANAGED = 'io.ecoware.managed';
export const LABEL_APP = 'io.ecoware.app';
export const LABEL_TIER = 'io.ecoware.tier';
export const LABEL_FLAT_TIER = 'io.ecoware.flat_tier';
export const LABEL_VM = 'io.ecoware.vm';
/** Containers, networks and volumes of a system (compose file) carry its sid. */
export const LABEL_SYSTEM = 'io.ecoware.system';
/** A system container's namespace and service name. */
export const LABEL_NAMESPACE = 'io.ecoware.namespace';
export const LABEL_SERVICE = 'io.ecoware.service';
/** Host ports the daemon chose for a container: `8080/tcp=20001,53/udp=20002`. */
export const LABEL_HOST_PORTS = 'io.ecoware.ports';
/**
 * A run-to-completion container (a job's attempt). It never carries LABEL_MANAGED: the listings of
 * managed containers, and so observation and drift repair, never see it.
 */
export const LABEL_TASK = 'io.ecoware.task';
/** The short-lived containers that build a job template's image (value: the image's reference); never managed, never tasks. */
export const LABEL_IMAGE_BUILD = 'io.ecoware.image_build';
/** On PostgreSQL: the epoch of the leader that created the container (which daemon made what). */
export const LABEL_EPOCH = 'io.ecoware.epoch';
