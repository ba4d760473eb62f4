extension Duration {
    /// The duration in whole milliseconds, as Redis takes timeouts and expiries (`PX`, `BLOCK`).
    public var milliseconds: Int64 {
        self.components.seconds * 1000 + self.components.attoseconds / 1_000_000_000_000_000
    }
}
