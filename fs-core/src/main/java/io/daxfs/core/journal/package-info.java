/**
 * The metadata journal: a Transaction collects the changes of one operation, Journal.commit
 * makes them durable and applies them atomically, and mount replays a committed but unapplied
 * one (docs/format.md, "Journal").
 */
package io.daxfs.core.journal;
