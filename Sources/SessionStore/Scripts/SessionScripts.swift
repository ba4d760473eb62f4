import RedisClient

/// The Lua scripts behind the API, from the `.lua` files beside this one (embedded in the binary
/// at build time). Each is a prelude (`Lua/Prelude/head.lua` and the shared functions it calls)
/// followed by its own body, run with `EVALSHA` as one atomic step: existence, access and version
/// checks, the change, the version bump, `modifiedAt`, the TTL and the change event. Each file
/// lists above its code where it can fail; all such points come before its first write.
enum SessionScripts {
    static let readTouch = RedisScript(source: prelude(.callerAllowed, .refreshTTL) + lua(PackageResources.read_touch_lua))
    static let readTouchCopy = RedisScript(source: prelude(.callerAllowed, .refreshTTL) + lua(PackageResources.read_touch_copy_lua))
    static let replace = RedisScript(
        source: prelude(.standardFields, .load, .nowMilliseconds, .overLimit, .refreshTTL, .writeFields, .streamWritable, .publish, .commit)
            + lua(PackageResources.replace_lua)
    )
    static let merge = RedisScript(
        source: prelude(.standardFields, .load, .overLimit, .callerAllowed, .refreshTTL, .commit) + lua(PackageResources.merge_lua)
    )
    static let attributeSet = RedisScript(
        source: prelude(.callerAllowed, .refreshTTL, .overLimit, .commit) + lua(PackageResources.attribute_set_lua)
    )
    static let attributeDelete = RedisScript(
        source: prelude(.callerAllowed, .refreshTTL, .commit) + lua(PackageResources.attribute_delete_lua)
    )
    static let delete = RedisScript(source: prelude(.nowMilliseconds, .streamWritable, .publish) + lua(PackageResources.delete_lua))
    static let expired = RedisScript(source: prelude(.nowMilliseconds, .streamWritable, .publish) + lua(PackageResources.expired_lua))
    static let customerIndexPrune = RedisScript(source: lua(PackageResources.customer_index_prune_lua))
    static let claimExtend = RedisScript(source: lua(PackageResources.claim_extend_lua))
    static let migrateDump = RedisScript(source: lua(PackageResources.migrate_dump_lua))
    static let migrateRestore = RedisScript(source: lua(PackageResources.migrate_restore_lua))
    static let migrateDrop = RedisScript(source: lua(PackageResources.migrate_drop_lua))

    /// The text of an embedded `.lua` file.
    static func lua(_ bytes: [UInt8]) -> String {
        String(decoding: bytes, as: UTF8.self)
    }
}

/// The service's Lua scripts by name, for operators: `session-context scripts` lists their SHA1s
/// (what `SCRIPT EXISTS` and `EVALSHA` take) and prints their source.
public enum SessionScriptCatalog {
    /// Each script's name and the script, in the order the API uses them.
    public static let all: [(name: String, script: RedisScript)] = [
        ("read-touch", SessionScripts.readTouch),
        ("read-touch-copy", SessionScripts.readTouchCopy),
        ("replace", SessionScripts.replace),
        ("merge", SessionScripts.merge),
        ("attribute-set", SessionScripts.attributeSet),
        ("attribute-delete", SessionScripts.attributeDelete),
        ("delete", SessionScripts.delete),
        ("expired", SessionScripts.expired),
        ("customer-index-prune", SessionScripts.customerIndexPrune),
        ("claim-extend", SessionScripts.claimExtend),
        ("migrate-dump", SessionScripts.migrateDump),
        ("migrate-restore", SessionScripts.migrateRestore),
        ("migrate-drop", SessionScripts.migrateDrop),
    ]
}
