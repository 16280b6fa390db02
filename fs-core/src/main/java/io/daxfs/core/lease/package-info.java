/**
 * The leases granted to other processes (docs/leases.md): {@link io.daxfs.core.lease.Leases}
 * numbers each {@link io.daxfs.core.data.Lease}, remembers its holder and age, flushes what a
 * write-lease holder stored, and lists them for {@code daxfs stat}.
 */
package io.daxfs.core.lease;
