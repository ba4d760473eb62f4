import RedisClient

/// The Lua scripts behind the API. Each is a prelude (the shared head and the shared functions it
/// calls) followed by its own body, run with
/// `EVALSHA` as one atomic step: existence, access and version checks, the change, the version bump,
/// `modifiedAt`, the TTL and the change event.
enum SessionScripts {
    static let readTouch = RedisScript(source: prelude(.callerAllowed, .refreshTTL) + readTouchSource)
    static let replace = RedisScript(
        source: prelude(.standardFields, .load, .nowMilliseconds, .overLimit, .refreshTTL, .publish, .commit) + replaceSource
    )
    static let merge = RedisScript(
        source: prelude(.standardFields, .load, .overLimit, .callerAllowed, .refreshTTL, .commit) + mergeSource
    )
    static let attributeSet = RedisScript(source: prelude(.callerAllowed, .refreshTTL, .overLimit, .commit) + attributeSetSource)
    static let attributeDelete = RedisScript(source: prelude(.callerAllowed, .refreshTTL, .commit) + attributeDeleteSource)
    static let delete = RedisScript(source: prelude(.nowMilliseconds, .publish) + deleteSource)
    static let expired = RedisScript(source: prelude(.nowMilliseconds, .publish) + expiredSource)
    static let customerIndexPrune = RedisScript(source: customerIndexPruneSource)
    static let claimExtend = RedisScript(source: claimExtendSource)
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
        ("claim-extend", SessionScripts.claimExtend),
    ]
}
