import RedisClient

/// The Lua scripts behind the API. Each is the shared prelude followed by its own body, run with
/// `EVALSHA` as one atomic step: existence, access and version checks, the change, the version bump,
/// `modifiedAt`, the TTL and the change event.
enum SessionScripts {
    static let readTouch = RedisScript(source: prelude + readTouchSource)
    static let replace = RedisScript(source: prelude + replaceSource)
    static let merge = RedisScript(source: prelude + mergeSource)
    static let attributeSet = RedisScript(source: prelude + attributeSetSource)
    static let attributeDelete = RedisScript(source: prelude + attributeDeleteSource)
    static let delete = RedisScript(source: prelude + deleteSource)
    static let expired = RedisScript(source: prelude + expiredSource)

    private static let prelude = preludeSource + "\n"
}
