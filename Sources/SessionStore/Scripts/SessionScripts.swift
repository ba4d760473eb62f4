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
    static let customerIndexPrune = RedisScript(source: customerIndexPruneSource)

    private static let prelude = preludeSource + "\n"
}

/// The service's Lua scripts by name, for operators: `session-context scripts` lists their SHA1s
/// (what `SCRIPT EXISTS` and `EVALSHA` take) and prints their source.
public enum SessionScriptCatalog {
    /// Each script's name and the script, in the order the API uses them.
    public static let all: [(name: String, script: RedisScript)] = [
        ("read-touch", SessionScripts.readTouch),
        ("replace", SessionScripts.replace),
        ("merge", SessionScripts.merge),
        ("attribute-set", SessionScripts.attributeSet),
        ("attribute-delete", SessionScripts.attributeDelete),
        ("delete", SessionScripts.delete),
        ("expired", SessionScripts.expired),
        ("customer-index-prune", SessionScripts.customerIndexPrune),
    ]
}
