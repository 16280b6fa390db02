/**
 * Live statistics a running daemon keeps for {@code daxfs stat} (docs/stats.md): latency
 * histograms ({@link io.daxfs.core.stats.LatencyHistogram}) and contention counters
 * ({@link io.daxfs.core.stats.Contention}). Recording allocates nothing and takes no lock; it
 * depends on no other part of fs-core.
 */
package io.daxfs.core.stats;
