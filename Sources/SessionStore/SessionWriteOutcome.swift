/// What a write did.
public enum SessionWriteOutcome: Sendable, Equatable {
    /// The change was applied; the context now has this version.
    case applied(version: Int64)
    /// The request changed nothing; the version stays.
    case unchanged(version: Int64)
    /// No such session context.
    case notFound
    /// The expected version was not the stored one.
    case conflict(currentVersion: Int64)
    /// The caller may not change this context (customer mismatch, or a missing or foreign saas-token).
    case forbidden
    /// The change would leave the context with more attributes than the limit; nothing changed.
    case tooManyAttributes(limit: Int)
}

/// What a storefront read found.
public enum SessionReadOutcome: Sendable {
    case found(SessionSnapshot)
    case notFound
    case forbidden
}
