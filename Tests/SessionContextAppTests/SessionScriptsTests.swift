import Testing

@testable import SessionStore

@Suite("The Lua scripts' preludes")
struct SessionScriptsTests {
    /// How often `name(` occurs in `source` as a call or definition of that name (not as the end
    /// of a longer identifier such as `payload(`).
    private static func uses(of name: String, in source: String) -> Int {
        let source = Array(source.utf8)
        let pattern = Array((name + "(").utf8)
        guard source.count >= pattern.count else { return 0 }
        var count = 0
        for start in 0...(source.count - pattern.count) where source[start..<(start + pattern.count)].elementsEqual(pattern) {
            let before = start > 0 ? source[start - 1] : UInt8(ascii: " ")
            let partOfIdentifier = before == UInt8(ascii: "_") || (before >= 0x30 && before <= 0x39)
                || ((before | 0x20) >= UInt8(ascii: "a") && (before | 0x20) <= UInt8(ascii: "z"))
            if !partOfIdentifier { count += 1 }
        }
        return count
    }

    @Test("Each script defines exactly the shared functions it calls, each before its first call")
    func onlyCalledFunctionsAreDefined() {
        for (scriptName, script) in SessionScriptCatalog.all {
            let source = script.source
            for function in SessionScripts.PreludeFunction.allCases {
                let definition = source.range(of: "local function \(function.name)(")
                let uses = Self.uses(of: function.name, in: source)
                let calls = uses - (definition == nil ? 0 : 1)
                #expect((definition != nil) == (calls > 0), "\(scriptName): \(function.name) defined: \(definition != nil), called \(calls)x")
            }
        }
        // A Lua local function sees only the functions defined before it.
        let order = SessionScripts.PreludeFunction.allCases
        for function in order {
            for callee in function.calls {
                #expect(order.firstIndex(of: callee)! < order.firstIndex(of: function)!, "\(function.name) calls \(callee.name)")
                #expect(Self.uses(of: callee.name, in: function.source) > 0, "\(function.name) is said to call \(callee.name)")
            }
        }
    }

    @Test("Every script says where it can fail, and each refusal of the stream comes before a write")
    func failurePointsAreListed() {
        for (name, script) in SessionScriptCatalog.all {
            #expect(script.source.contains("Failure point"), "\(name) does not list its failure points")
        }
        // The scripts that write an event check the stream before their first write.
        for script in [SessionScripts.delete, SessionScripts.expired] {
            let check = script.source.range(of: "if not stream_writable()")
            #expect(check != nil)
            for write in ["redis.call('DEL'", "redis.call('SET'"] {
                if let check, let first = script.source.range(of: write) { #expect(check.lowerBound < first.lowerBound) }
            }
        }
    }

    @Test("The read-touch script, run on every GET /me, defines no function it does not call")
    func readTouchIsLean() {
        let source = SessionScripts.readTouch.source
        let defined = SessionScripts.PreludeFunction.allCases.filter { source.contains("local function \($0.name)(") }
        #expect(defined == [.callerAllowed, .refreshTTL])
        #expect(!source.contains("redis.call('HGETALL'"), "the context comes back through the transaction's HGETALL, not through Lua")
    }
}
