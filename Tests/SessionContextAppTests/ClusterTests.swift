import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import RedisClient
import SessionStore
import Synchronization
import TestSupport
import Testing

/// The service on a real Redis Cluster of 3 primaries and 3 replicas (`scripts/redis-topology`),
/// through the faults a cluster has: a primary dies, slots move between primaries.
@Suite("Redis Cluster: failover, slot migration, expiry", .serialized)
struct ClusterTests {
    /// A worker on `topology` with short timeouts; `replicaAcks` writes wait for that many replicas.
    static func fixture(_ topology: LocalRedisTopology, replicaAcks: Int = 0) throws -> Fixture {
        try Fixture {
            $0.redisURL = topology.url
            $0.redisTimeoutMilliseconds = 500
            $0.redisConnectTimeoutMilliseconds = 300
            $0.redisReplicaAcknowledgements = replicaAcks
            $0.redisReplicaTimeoutMilliseconds = 200
        }
    }

    /// After a second of load, SIGKILLs node-1 (a primary) and waits until one of the replicas
    /// (node-4…6) is promoted; returns when it killed and when the promotion was seen.
    static func killFirstPrimary(_ topology: LocalRedisTopology) async throws -> (ContinuousClock.Instant, ContinuousClock.Instant) {
        try await Task.sleep(for: .seconds(1))
        let killed = ContinuousClock.now
        await LocalRedisTopology.kill(pid: topology.integers("NODE_PIDS")[0])
        _ = try await LocalRedisTopology.waitForRole("master", among: Array(topology.integers("NODE_PORTS")[3...]))
        return (killed, ContinuousClock.now)
    }

    @Test("A primary SIGKILLed under load, writes acknowledged by a replica too: only 503s while it fails over and rejoins, every acknowledged write kept, with its event in a stream")
    func failoverKeepsAcknowledgedWrites() async throws {
        let topology = try await LocalRedisTopology.startCluster()
        defer { topology.stop() }
        let ports = topology.integers("NODE_PORTS")
        let fixture = try Self.fixture(topology, replicaAcks: 1)
        let ledger = WriteLedger(tenant: fixture.tenant, token: try await fixture.managementToken())
        let (killed, promoted, rejoined) = try await fixture.withApp { client async throws in
            try await ledger.run(clients: 12, on: client) {
                let (killed, promoted) = try await Self.killFirstPrimary(topology)
                try await Task.sleep(for: .milliseconds(500))
                try await topology.restart("node-1")
                _ = try await LocalRedisTopology.waitForRole("slave", among: [ports[0]])
                try await LocalRedisTopology.waitForLink(port: ports[0])
                let rejoined = ContinuousClock.now
                try await Task.sleep(for: .seconds(2))
                return (killed, promoted, rejoined)
            }
        }
        let answers = ledger.answers
        let slowest = ledger.expectOnlyUnavailable(recoveredBy: rejoined + .seconds(1))
        let missing = try await fixture.withApp { client async throws in try await ledger.missing(client) }
        #expect(missing.isEmpty, "acknowledged but lost: \(missing.prefix(10))")
        // And every acknowledged write has its event in its bucket's stream: the change and its
        // event are one script, replicated together.
        let missingEvents = try await fixture.withEventStream { stream in try await ledger.missingEvents(stream) }
        #expect(missingEvents.isEmpty, "acknowledged without an event: \(missingEvents.prefix(10))")
        print(
            "cluster failover (replica acks 1): \(answers.count) requests, \(answers.filter { $0.status == 503 }.count) 503, "
                + "\(ledger.attributes.count) acknowledged attribute writes and \(ledger.created.count) creations checked, "
                + "\(missing.count) missing, \(missingEvents.count) without an event; promoted after \(promoted - killed), "
                + "rejoined after \(rejoined - killed), slowest answer \(slowest)"
        )
    }

    @Test("A consumer group stopped for 1,000 changes over sessions in every bucket reads exactly those after its restart, each once, each session in order, none left pending")
    func consumerGroupAcrossBuckets() async throws {
        let topology = try await LocalRedisTopology.startCluster()
        defer { topology.stop() }
        let fixture = try Self.fixture(topology)
        let token = try await fixture.managementToken()
        let layout = SessionLayout(buckets: fixture.configuration.eventBuckets)
        // 50 sessions, every bucket among them.
        let sessions = (0..<50).map { "c\($0)" }
        #expect(Set(sessions.map { layout.bucket(of: $0) }).count == layout.buckets)
        try await fixture.withEventStream(blockTime: .milliseconds(500)) { stream in
            try await fixture.withApp { client async throws in
                for sid in sessions + ["first"] {
                    let response = try await client.send(.put, "/session-context/\(fixture.tenant)/context/\(sid)?upsert=true", token: token, json: #"{"metadata":{"version":0}}"#)
                    #expect(response.status == .noContent)
                }
                try await stream.createGroup("cart-service")
                // The consumer handles one change, then stops.
                _ = try await client.send(.post, "/session-context/\(fixture.tenant)/context/first/attributes", token: token, json: #"{"key":"a","value":"1"}"#)
                for try await delivery in stream.consume(group: "cart-service", consumer: "cart-1") {
                    #expect(delivery.event.sessionId == "first")
                    try await delivery.acknowledge()
                    break
                }
                // 1,000 changes while it is stopped: 20 per session, the sessions concurrently.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for sid in sessions {
                        group.addTask {
                            for index in 0..<20 {
                                let response = try await client.send(.post, "/session-context/\(fixture.tenant)/context/\(sid)/attributes", token: token, json: #"{"key":"k\#(index)","value":"v"}"#)
                                #expect(response.status == .noContent)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
            // Restarted: exactly those 1,000, each once, each session's in order.
            var received: [String: [Int64]] = [:]
            var count = 0
            for try await delivery in stream.consume(group: "cart-service", consumer: "cart-1") {
                received[delivery.event.sessionId, default: []].append(delivery.event.version)
                try await delivery.acknowledge()
                count += 1
                if count == 1000 { break }
            }
            #expect(count == 1000)
            #expect(Set(received.keys) == Set(sessions))
            for sid in sessions { #expect(received[sid] == Array(2...21), "\(sid): \(received[sid] ?? [])") }
            let probe = RedisProbe(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: topology.integers("NODE_PORTS")[0])))
            #expect(try await stream.pendingCount("cart-service", probe) == 0)
            // Nothing more comes.
            let more = try await stream.deliveries(group: "cart-service", consumer: "cart-1", within: .seconds(1))
            #expect(more == 0)
            print("cluster consumer group: \(count) events over \(layout.buckets) buckets read after the restart, 0 pending")
        }
    }

    @Test("A primary SIGKILLed under load: the service recovers by itself once its replica is promoted")
    func failoverRecoversByItself() async throws {
        let topology = try await LocalRedisTopology.startCluster()
        defer { topology.stop() }
        let fixture = try Self.fixture(topology)
        let ledger = WriteLedger(tenant: fixture.tenant, token: try await fixture.managementToken())
        let (killed, promoted) = try await fixture.withApp { client async throws in
            try await ledger.run(clients: 12, on: client) {
                let (killed, promoted) = try await Self.killFirstPrimary(topology)
                try await Task.sleep(for: .seconds(3))
                return (killed, promoted)
            }
        }
        let answers = ledger.answers
        // The slot map is refreshed within a second of the promotion.
        ledger.expectOnlyUnavailable(recoveredBy: promoted + .seconds(1))
        let lastFailure = ledger.lastFailure
        print(
            "cluster failover (replica acks 0): \(answers.count) requests, \(answers.filter { $0.status == 503 }.count) 503, promoted "
                + "\(promoted - killed) after the kill, last failed answer \(lastFailure.map { $0 - killed } ?? .zero) after the kill"
        )
    }

    @Test("Live sessions whose slot migrates to another primary under load: reads all succeed (ASK, then MOVED), writes only answer 503 while the bucket's keys are split, nothing lost")
    func slotMigration() async throws {
        let topology = try await LocalRedisTopology.startCluster()
        defer { topology.stop() }
        let ports = Array(topology.integers("NODE_PORTS").prefix(3))
        let fixture = try Self.fixture(topology)
        // 20 sessions in one slot, and the nodes it moves between.
        let slot = RedisHashSlot.of(fixture.key("anchor"))
        var found = ["anchor"]
        while found.count < 20 {
            let sid = String(UInt64.random(in: 0...UInt64.max), radix: 36)
            if RedisHashSlot.of(fixture.key(sid)) == slot { found.append(sid) }
        }
        let sessionIds = found
        var ids: [String] = []
        for port in ports {
            ids.append(try await LocalRedisTopology.redisCLI(["-p", String(port), "CLUSTER", "MYID"]).trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let source = try #require(try await Self.slotOwners(ports)[slot])
        let target = ports.first { $0 != source }!
        let (sourceId, targetId) = (ids[ports.firstIndex(of: source)!], ids[ports.firstIndex(of: target)!])
        let ledger = WriteLedger(tenant: fixture.tenant, token: try await fixture.managementToken())
        var storefrontTokens: [String: String] = [:]
        for sid in sessionIds { storefrontTokens[sid] = try await fixture.storefrontToken(sid: sid) }
        let readTokens = storefrontTokens
        let reads = StatusLog()
        let window = MigrationWindow()
        try await fixture.withApp { client async throws in
            for sid in sessionIds {
                let created = try await client.send(
                    .put, "/session-context/\(fixture.tenant)/context/\(sid)?upsert=true", token: try await fixture.managementToken(),
                    json: #"{"metadata":{"version":0}}"#
                )
                #expect(created.status == .noContent)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<8 {
                    let mine = sessionIds.enumerated().filter { $0.offset % 8 == index }.map(\.element)
                    group.addTask { await ledger.runClientOnOwnConnection(client, sessionIds: mine) }
                }
                // Storefront reads all along: each GET /me is one MULTI/EXEC; for a moved key it goes to
                // the target after ASKING, where its script is unknown (flushed below) until loaded there.
                group.addTask {
                    while !ledger.isStopped {
                        for sid in sessionIds {
                            let status = try await client.send(.get, "/session-context/\(fixture.tenant)/me/context", token: readTokens[sid]!).status
                            reads.statuses.withLock { $0.append(status) }
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(500))
                    let cli = { (port: Int, arguments: [String]) async throws in
                        try await LocalRedisTopology.redisCLI(["-p", String(port)] + arguments)
                    }
                    _ = try await cli(target, ["CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceId])
                    _ = try await cli(source, ["CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetId])
                    _ = try await cli(target, ["SCRIPT", "FLUSH"])
                    window.instants.withLock { $0.start = .now }
                    // Move the keys a few at a time, with load in between: requests for moved keys get ASK.
                    while true {
                        let keys = try await cli(source, ["CLUSTER", "GETKEYSINSLOT", String(slot), "3"]).split(separator: "\n").map(String.init)
                        if keys.isEmpty { break }
                        _ = try await cli(source, ["MIGRATE", "127.0.0.1", String(target), "", "0", "5000", "KEYS"] + keys)
                        try await Task.sleep(for: .milliseconds(150))
                    }
                    for port in [target, source] + ports.filter({ $0 != source && $0 != target }) {
                        _ = try await cli(port, ["CLUSTER", "SETSLOT", String(slot), "NODE", targetId])
                    }
                    window.instants.withLock { $0.end = .now }
                    try await Task.sleep(for: .milliseconds(700))
                    ledger.stop()
                }
                try await group.waitForAll()
            }
        }
        let answers = ledger.answers
        #expect(answers.count > 100)
        let readStatuses = reads.statuses.withLock { $0 }
        #expect(readStatuses.count > 40)
        #expect(readStatuses.allSatisfy { $0 == .ok }, "GET /me statuses: \(Set(readStatuses.map(\.code)))")
        // A write names the session and its bucket's stream: while the slot's keys are split
        // between the nodes Redis answers TRYAGAIN, retried until the command timeout, then 503.
        // Never outside the migration (with the timeout's grace).
        let recorded = window.instants.withLock { $0 }
        let start = try #require(recorded.start), end = try #require(recorded.end)
        #expect(Set(answers.map(\.status)).isSubset(of: [204, 503]), "statuses: \(Set(answers.map(\.status)))")
        let outside = answers.filter { $0.status == 503 && ($0.started < start || $0.started > end + .seconds(1)) }
        #expect(outside.isEmpty, "503 outside the migration: \(outside.count)")
        let stored = try await LocalRedisTopology.redisCLI(["-p", String(target), "CLUSTER", "COUNTKEYSINSLOT", String(slot)])
        #expect(stored.trimmingCharacters(in: .whitespacesAndNewlines) == "21", "the sessions and their bucket's stream are on the target now")
        let missing = try await fixture.withApp { client async throws in try await ledger.missing(client) }
        #expect(missing.isEmpty, "lost: \(missing.prefix(10))")
        print(
            "slot migration: \(answers.count) writes on 20 sessions of slot \(slot), \(answers.filter { $0.status == 503 }.count) answered 503 "
                + "during the \(end - start) the keys moved; \(readStatuses.count) reads all 200; \(ledger.attributes.count) writes checked"
        )
    }

    @Test("Every primary is connected once the slot map is known; a primary demoted by a failover has its pool closed: the client keeps no connection to it, and serves every slot")
    func demotedPrimaryPoolClosed() async throws {
        let topology = try await LocalRedisTopology.startCluster()
        defer { topology.stop() }
        let ports = topology.integers("NODE_PORTS")
        // node-1 is the only seed, so node-2 is kept only while it is a primary.
        let seed = try RedisEndpoint(url: "redis://127.0.0.1:\(ports[0])/0")
        let client = RedisClusterClient(
            configuration: .init(seeds: [seed], pool: .init(endpoint: seed, size: 2)), logger: Logger(label: "cluster-test")
        )
        /// The normal (not replica, not pub/sub) clients of the node on `port`, without the asking one.
        func ourConnections(_ port: Int) async throws -> Int {
            let list = try await LocalRedisTopology.redisCLI(["-p", String(port), "CLIENT", "LIST", "TYPE", "normal"])
            return list.split(separator: "\n").count - 1
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await client.run() }
            // The first map comes from run()'s own refresh, or from this one: whichever is first.
            #expect(try await eventually {
                await client.refreshSlotMap()
                return client.slotMap.primaries.count == 3
            })
            // Every primary's pool connects as soon as the map is known, before any command for
            // one of its slots: node-2 is no seed, and nothing has been sent to it.
            #expect(try await eventually { client.hasReachedEveryPrimary }, "not connected to every primary")
            #expect(try await ourConnections(ports[1]) >= 1)
            for node in client.slotMap.primaries {
                _ = try await client.send(RESPCommand("PING"), to: node)
            }
            // The pool's second connection comes up on its own, after the first answered.
            #expect(try await eventually { try await ourConnections(ports[1]) == 2 })
            var replica: Int?
            for port in ports[3...] {
                let role = try await LocalRedisTopology.redisCLI(["-p", String(port), "ROLE"]).split(separator: "\n")
                if role.first == "slave", role.count > 2, role[2] == Substring(String(ports[1])) { replica = port }
            }
            let promoted = try #require(replica)
            // TAKEOVER: promoted at once, without the handshake with the old primary or the other
            // primaries' votes, which a loaded machine can make time out.
            _ = try await LocalRedisTopology.redisCLI(["-p", String(promoted), "CLUSTER", "FAILOVER", "TAKEOVER"])
            _ = try await LocalRedisTopology.waitForRole("master", among: [promoted])
            _ = try await LocalRedisTopology.waitForRole("slave", among: [ports[1]])
            let released = try await eventually(every: .milliseconds(100)) {
                await client.refreshSlotMap()
                return try await ourConnections(ports[1]) == 0 && !client.slotMap.primaries.contains { $0.port == ports[1] }
            }
            #expect(released, "node-2 still a primary in the client's map, or still connected")
            #expect(try await ourConnections(ports[1]) == 0)
            // Every slot is still served: a key on each of many slots is written and read back.
            for index in 0..<64 {
                let key = "demoted-\(index)"
                _ = try await client.send(RESPCommand("SET", key, "v\(index)"), key: key)
                #expect(try await client.send(RESPCommand("GET", key), key: key).string == "v\(index)")
            }
            group.cancelAll()
        }
    }

    @Test("Sessions expiring on each of the three primaries each give one expired event")
    func expiryOnEveryPrimary() async throws {
        let topology = try await LocalRedisTopology.startCluster()
        defer { topology.stop() }
        let fixture = try Fixture {
            $0.redisURL = topology.url
            $0.anonymousTTL = 1
        }
        let ports = Array(topology.integers("NODE_PORTS").prefix(3))
        let seed = RedisEndpoint(address: .tcp(host: "127.0.0.1", port: ports[0]))
        // 4 sessions on each primary.
        let owners = try await Self.slotOwners(ports)
        var perPrimary: [Int: [String]] = [:]
        while perPrimary.count < 3 || perPrimary.values.contains(where: { $0.count < 4 }) {
            let sid = Fixture.uniqueSessionId()
            let owner = try #require(owners[RedisHashSlot.of(fixture.key(sid))])
            if perPrimary[owner, default: []].count < 4 { perPrimary[owner, default: []].append(sid) }
        }
        let sessionIds = perPrimary.values.flatMap { $0 }
        try await fixture.withApp { client async throws in
            // The worker listens for expiries on every primary before the sessions are made.
            let listening = try await eventually {
                for port in Set(owners.values) {
                    let primary = RedisProbe(endpoint: RedisEndpoint(address: .tcp(host: "127.0.0.1", port: port)))
                    if try await primary.expiryListeners() < 1 { return false }
                }
                return true
            }
            #expect(listening, "the worker does not listen for expiries on every primary")
            let collector = try await EventCollector.subscribe(endpoint: seed, tenant: fixture.tenant, sharded: true)
            for sid in sessionIds {
                try await CustomerSessionsTests.create(client, fixture, sid: sid, customerId: nil)
            }
            nonisolated(unsafe) var expired: [String] = []
            let lock = NSLock()
            _ = try await collector.collect(until: { _ in lock.withLock { Set(expired).count } == sessionIds.count }, timeout: .seconds(10)) { event in
                if event[member: "type"]?.stringValue == "expired", let sid = event[member: "sessionId"]?.stringValue {
                    lock.withLock { expired.append(sid) }
                }
            }
            #expect(lock.withLock { expired.sorted() } == sessionIds.sorted(), "one expired event per session")
        }
    }

    /// Slot -> port of its primary, from each primary's own line of `CLUSTER NODES`.
    static func slotOwners(_ ports: [Int]) async throws -> [Int: Int] {
        var owners: [Int: Int] = [:]
        for port in ports {
            let nodes = try await LocalRedisTopology.redisCLI(["-p", String(port), "CLUSTER", "NODES"])
            for line in nodes.split(separator: "\n") where line.contains("myself") {
                for range in line.split(separator: " ").dropFirst(8) {
                    let bounds = range.split(separator: "-").compactMap { Int($0) }
                    guard let low = bounds.first else { continue }
                    for slot in low...(bounds.last ?? low) { owners[slot] = port }
                }
            }
        }
        return owners
    }
}

/// Statuses collected by concurrent requests.
private final class StatusLog: Sendable {
    let statuses = Mutex<[HTTPResponse.Status]>([])
}

/// When a slot migration began moving keys, and when every node had taken its end.
private final class MigrationWindow: Sendable {
    let instants = Mutex<(start: ContinuousClock.Instant?, end: ContinuousClock.Instant?)>((nil, nil))
}
