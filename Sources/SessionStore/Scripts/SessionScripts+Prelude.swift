extension SessionScripts {
    /// The prelude of a script that calls `functions`: the shared head (`Lua/Prelude/head.lua`:
    /// the keys, the arguments and the reply statuses), then those functions and the ones they
    /// call, in their order of definition.
    ///
    /// Redis runs a script's whole text on every call, and every `local function` in it makes a new
    /// closure each time: a prelude with every function cost each call about 0.7 µs of Redis CPU for
    /// closures the script never used.
    static func prelude(_ functions: PreludeFunction...) -> String {
        var needed = Set<PreludeFunction>()
        var pending = functions
        while let function = pending.popLast() {
            if needed.insert(function).inserted { pending += function.calls }
        }
        let defined = PreludeFunction.allCases.filter(needed.contains).map(\.source)
        return ([lua(PackageResources.head_lua)] + defined).joined(separator: "\n")
    }
}
