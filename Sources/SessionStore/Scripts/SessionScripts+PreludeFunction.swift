extension SessionScripts {
    /// A Lua function the scripts share, in `Lua/Prelude/<name>.lua`. Each script's prelude defines
    /// only the ones it calls (see ``SessionScripts/prelude(_:)``); the cases are in order of
    /// definition, and a function calls only functions defined before it.
    enum PreludeFunction: CaseIterable, Hashable {
        /// `standard_fields`
        case standardFields
        /// `now_ms`
        case nowMilliseconds
        /// `iso`
        case iso8601
        /// `load`
        case load
        /// `over_limit`
        case overLimit
        /// `caller_allowed`
        case callerAllowed
        /// `refresh_ttl`
        case refreshTTL
        /// `write_fields`
        case writeFields
        /// `stream_writable` (and `stream_refused`)
        case streamWritable
        /// `publish`
        case publish
        /// `commit`
        case commit

        /// The function's name in Lua.
        var name: String {
            switch self {
            case .standardFields: "standard_fields"
            case .nowMilliseconds: "now_ms"
            case .iso8601: "iso"
            case .load: "load"
            case .overLimit: "over_limit"
            case .callerAllowed: "caller_allowed"
            case .refreshTTL: "refresh_ttl"
            case .writeFields: "write_fields"
            case .streamWritable: "stream_writable"
            case .publish: "publish"
            case .commit: "commit"
            }
        }

        /// The functions it calls.
        var calls: [PreludeFunction] {
            switch self {
            case .publish: [.iso8601]
            case .commit: [.nowMilliseconds, .refreshTTL, .writeFields, .streamWritable, .publish]
            default: []
            }
        }

        /// Its Lua source, with the comment that explains it.
        var source: String {
            let bytes: [UInt8] =
                switch self {
                case .standardFields: PackageResources.standard_fields_lua
                case .nowMilliseconds: PackageResources.now_ms_lua
                case .iso8601: PackageResources.iso_lua
                case .load: PackageResources.load_lua
                case .overLimit: PackageResources.over_limit_lua
                case .callerAllowed: PackageResources.caller_allowed_lua
                case .refreshTTL: PackageResources.refresh_ttl_lua
                case .writeFields: PackageResources.write_fields_lua
                case .streamWritable: PackageResources.stream_writable_lua
                case .publish: PackageResources.publish_lua
                case .commit: PackageResources.commit_lua
                }
            return SessionScripts.lua(bytes)
        }
    }
}
