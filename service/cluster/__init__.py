"""Running on many machines: camera partitions over NATS JetStream, leases in PostgreSQL."""
