import Metrics
import NIOCore
import RedisClient

/// The session contexts in Redis: every operation is one round trip, an `HGETALL` for the
/// management read and one `EVALSHA` of a script for everything else.
public struct SessionStore: Sendable {
    /// The store's settings.
    public struct Configuration: Sendable {
        /// Idle time of anonymous sessions, in seconds (> 0).
        public var anonymousTTL: Int
        /// Idle time of logged-in customer sessions, in seconds; 0 means they never expire.
        public var customerTTL: Int
        /// This worker's instance id, the `origin` of the events it publishes.
        public var origin: String
        /// The approximate number of events kept per tenant, over all its buckets' streams (each
        /// is trimmed to its share, rounded up); 0 = no stream.
        public var streamMaxLength: Int
        /// How sessions are spread over buckets (the same for every worker of a deployment).
        public var layout: SessionLayout
        /// The pub/sub channels events are published on.
        public var eventChannels: EventChannels
        /// The most attributes one context may hold; 0 = no limit.
        public var maxAttributes: Int
        /// How many replicas must have a change before it is acknowledged (Redis `WAIT` after each
        /// write, in the same round trip); 0 acknowledges once the primary has it.
        public var replicaAcknowledgements: Int
        /// How long a write waits for those replicas, in milliseconds, before it answers 503.
        public var replicaTimeoutMilliseconds: Int

        /// Settings from their values.
        public init(
            anonymousTTL: Int = 3600,
            customerTTL: Int = 0,
            origin: String,
            streamMaxLength: Int = 100_000,
            layout: SessionLayout = SessionLayout(),
            eventChannels: EventChannels = .classic,
            maxAttributes: Int = 0,
            replicaAcknowledgements: Int = 0,
            replicaTimeoutMilliseconds: Int = 200
        ) {
            self.replicaAcknowledgements = replicaAcknowledgements
            self.replicaTimeoutMilliseconds = replicaTimeoutMilliseconds
            self.anonymousTTL = anonymousTTL
            self.customerTTL = customerTTL
            self.origin = origin
            self.streamMaxLength = streamMaxLength
            self.layout = layout
            self.eventChannels = eventChannels
            self.maxAttributes = maxAttributes
        }
    }

    /// The Redis connections.
    public let redis: RedisRouter
    /// The store's settings.
    public let configuration: Configuration
    /// The optional near cache of the management read.
    public let nearCache: NearCache?
    /// The scripts' settings arguments (ARGV[3...5]: origin and TTLs), encoded once.
    private let settingsBeforeCaller: RESPArguments
    /// The scripts' settings arguments (ARGV[7...9]: stream length, attribute limit, channels), encoded once.
    private let settingsAfterCaller: RESPArguments

    /// Whether changes are also appended to the durable streams (one per tenant and bucket, in the
    /// bucket's slot: on every topology).
    public var hasStream: Bool { self.configuration.streamMaxLength > 0 }

    /// How sessions are spread over buckets.
    public var layout: SessionLayout { self.configuration.layout }

    /// The length each bucket's stream is trimmed to: its share of the tenant's `total`, rounded up.
    static func bucketStreamLength(_ total: Int, layout: SessionLayout) -> Int {
        total <= 0 ? 0 : (total + layout.buckets - 1) / layout.buckets
    }

    /// The address of `sessionId` of `tenant` (both already valid) in this store's layout.
    public func address(tenant: String, sessionId: String) -> SessionAddress {
        self.configuration.layout.address(tenant: tenant, sessionId: sessionId)
    }

    /// A store on `redis`, with a near cache for the management read if `nearCache` is given.
    public init(redis: RedisRouter, configuration: Configuration, nearCache: NearCache? = nil) {
        self.redis = redis
        self.configuration = configuration
        self.nearCache = nearCache
        self.settingsBeforeCaller = RESPArguments([
            configuration.origin, String(configuration.anonymousTTL), String(configuration.customerTTL),
        ])
        self.settingsAfterCaller = RESPArguments([
            String(Self.bucketStreamLength(configuration.streamMaxLength, layout: configuration.layout)), String(configuration.maxAttributes),
            configuration.eventChannels.scriptArgument,
        ])
    }

    /// `HGETALL`, encoded once.
    private static let hgetallName = RESPArguments(["HGETALL"])

    /// `HGETALL key`, from the command name encoded once.
    static func hgetall(_ key: String) -> RESPCommand {
        var command = RESPCommand(argumentCount: 2, capacity: 24 + key.utf8.count)
        command.append(Self.hgetallName)
        command.append(key)
        return command
    }

    /// The context at `address`, without touching its TTL (the management read); from the near
    /// cache when it is on and holds it.
    public func read(_ address: SessionAddress) async throws(RedisError) -> SessionSnapshot? {
        if let cached = self.nearCache?.lookup(address) { return cached }
        let ticket = self.nearCache?.ticket()
        let reply = try await self.redis.send(Self.hgetall(address.key), key: address.key)
        let snapshot = SessionSnapshot(sessionId: address.sessionId, hgetall: reply)
        if let snapshot, let ticket {
            // Cached contexts are rendered once, on the way in: a hit costs no JSON work.
            let rendered = snapshot.prerendered()
            self.nearCache?.insert(rendered, for: address, ticket: ticket)
            return rendered
        }
        return snapshot
    }

    /// The context at `address`, restarting its idle clock (the storefront read).
    public func readAndTouch(_ address: SessionAddress, caller: SessionCaller) async throws(RedisError) -> SessionReadOutcome {
        // The script checks and touches; the HGETALL in the same transaction brings the context
        // back as Redis has it (see SessionScripts.readTouchSource).
        let command = self.command(SessionScripts.readTouch, address, caller, extra: 0, withStream: false)
        let replies: [RESPValue]
        do {
            replies = try await self.redis.evaluate(
                SessionScripts.readTouch, command, thenRead: [Self.hgetall(address.key)], key: address.key
            )
        } catch where error.isOutOfMemory {
            // Redis at maxmemory refuses every command queued in MULTI, but still runs a script
            // whose only write (EXPIRE or PERSIST) adds no data: the read answers, and the idle
            // clock still restarts.
            return try await self.readAndTouchWithoutTransaction(address, caller: caller)
        }
        guard let status = replies[0].array?.first?.int else { throw Self.unexpected(replies[0]) }
        return Self.readOutcome(status: status, address: address, hgetall: replies[1])
    }

    /// The storefront read as one script that returns the context itself (copied through Lua):
    /// for a Redis that refuses transactions because it reached `maxmemory`.
    private func readAndTouchWithoutTransaction(_ address: SessionAddress, caller: SessionCaller) async throws(RedisError) -> SessionReadOutcome {
        let command = self.command(SessionScripts.readTouchCopy, address, caller, extra: 0, withStream: false)
        let reply = try await self.redis.evaluate(SessionScripts.readTouchCopy, command, key: address.key)
        guard let parts = reply.array, let status = parts.first?.int else { throw Self.unexpected(reply) }
        return Self.readOutcome(status: status, address: address, hgetall: .array(Array(parts.dropFirst())))
    }

    /// What a read-touch script's `status` and the context it read mean for the caller.
    private static func readOutcome(status: Int64, address: SessionAddress, hgetall: RESPValue) -> SessionReadOutcome {
        switch status {
        case 0:
            guard let snapshot = SessionSnapshot(sessionId: address.sessionId, hgetall: hgetall) else { return .notFound }
            return .found(snapshot)
        case 4: return .forbidden
        default: return .notFound
        }
    }

    /// Replaces the context (PUT); creates it when `upsert` is set and it does not exist.
    /// `saasCustomer` is the customer id of a verified `saas-token`, if one came.
    public func replace(
        _ address: SessionAddress,
        with replacement: SessionReplacement,
        upsert: Bool,
        saasCustomer: String?
    ) async throws(RedisError) -> SessionWriteOutcome {
        let attributes = replacement.context ?? []
        var command = self.command(SessionScripts.replace, address, .management, extra: 10 + attributes.count * 2)
        command.append(String(replacement.expectedVersion))
        command.append(upsert ? "1" : "0")
        command.append(saasCustomer ?? "")
        for field in StandardField.allCases {
            command.append(replacement.standard[field] ?? "")
        }
        command.append(replacement.context == nil ? "0" : "1")
        for attribute in attributes {
            command.append(Identifiers.attributeField(attribute.name))
            command.append(attribute.json)
        }
        // A session about to belong to a customer is entered in that customer's index first, so that
        // "end all of a customer's sessions" can never miss it (see CustomerIndex).
        let customer = replacement.standard[.customerId].flatMap { $0.isEmpty ? nil : $0 }
        let indexing = customer.map { CustomerIndex(tenant: address.tenant, customerId: $0).add(address.sessionId) }
        let outcome = try await self.write(SessionScripts.replace, command, address: address, after: indexing).outcome
        if case .applied(let version) = outcome { SessionEventMetrics.published(version == 1 ? .created : .updated) }
        return outcome
    }

    /// Merges `patch` into the context (PATCH).
    public func merge(_ address: SessionAddress, _ patch: SessionPatch, caller: SessionCaller) async throws(RedisError) -> SessionWriteOutcome {
        let count = 1 + 2 * (patch.standard.count + patch.attributes.count)
        var command = self.command(SessionScripts.merge, address, caller, extra: count)
        command.append(String(patch.expectedVersion))
        for (field, value) in patch.standard {
            command.append(field.storageField)
            command.append(value.map { "=" + $0 } ?? "-")
        }
        for (name, json) in patch.attributes {
            command.append(Identifiers.attributeField(name))
            command.append(json.map { "=" + $0 } ?? "-")
        }
        return try await self.write(SessionScripts.merge, command, address: address, event: .updated).outcome
    }

    /// Sets one attribute to `json` (a set, not an insert).
    public func setAttribute(_ address: SessionAddress, name: String, json: String, caller: SessionCaller) async throws(RedisError) -> SessionWriteOutcome {
        var command = self.command(SessionScripts.attributeSet, address, caller, extra: 2)
        command.append(Identifiers.attributeField(name))
        command.append(json)
        return try await self.write(SessionScripts.attributeSet, command, address: address, event: .attributeSet).outcome
    }

    /// Removes one attribute; an attribute that is not there changes nothing.
    public func deleteAttribute(_ address: SessionAddress, name: String, caller: SessionCaller) async throws(RedisError) -> SessionWriteOutcome {
        var command = self.command(SessionScripts.attributeDelete, address, caller, extra: 1)
        command.append(Identifiers.attributeField(name))
        return try await self.write(SessionScripts.attributeDelete, command, address: address, event: .attributeDeleted).outcome
    }

    /// Ends the session: deletes its context.
    public func delete(_ address: SessionAddress) async throws(RedisError) -> SessionWriteOutcome {
        try await self.delete(address, onlyOf: nil)
    }

    /// Ends the session if it is there and, when `customerId` is given, belongs to that customer.
    /// A customer's session ended by itself (`customerId` nil) also leaves the customer's index,
    /// if its entry (stamped by its last PUT) is older than ``CustomerIndex/pruneGrace``: a PUT
    /// re-creating it may be on its way. A younger entry stays until the next lookup of that
    /// customer. When ending all of a customer's sessions, the caller prunes the index at once.
    func delete(_ address: SessionAddress, onlyOf customerId: String?) async throws(RedisError) -> SessionWriteOutcome {
        var command = self.command(SessionScripts.delete, address, .management, extra: 1)
        command.append(customerId ?? "")
        let (outcome, reply) = try await self.write(SessionScripts.delete, command, address: address, event: .deleted)
        if customerId == nil, case .applied = outcome, let customer = reply.array?.dropFirst(2).first?.string, !customer.isEmpty {
            // The session is gone whatever happens here: an entry left behind is only a stale
            // candidate, which the next reader of the index prunes.
            try? await CustomerIndex(tenant: address.tenant, customerId: customer).forget(address.sessionId, self.redis)
        }
        return outcome
    }

    /// Publishes the `expired` event of a context Redis expired, unless another worker already did.
    /// Returns whether this worker published it.
    public func announceExpiry(_ address: SessionAddress, claimMilliseconds: Int = 5000) async throws(RedisError) -> Bool {
        var command = SessionScripts.expired.command(keys: self.keys(address) + [address.expiryClaimKey], argumentCount: 10)
        self.appendPreludeArguments(to: &command, address, .management)
        command.append(claimMilliseconds)
        let outcome = try await self.write(SessionScripts.expired, command, address: address, event: .expired).outcome
        if case .applied = outcome { return true }
        return false
    }

    /// An `EVALSHA` of `script` on `address` with the prelude's arguments; `extra` more are to follow.
    /// A script that publishes nothing (a read) is given the session's key alone: while a cluster
    /// migrates the bucket's slot and its keys are split between two nodes, Redis refuses scripts
    /// that name several of them (`TRYAGAIN`), but not those that name one.
    private func command(
        _ script: RedisScript, _ address: SessionAddress, _ caller: SessionCaller, extra: Int, withStream: Bool = true
    ) -> RESPCommand {
        var command = script.command(keys: withStream ? self.keys(address) : [address.key], argumentCount: 9 + extra)
        self.appendPreludeArguments(to: &command, address, caller)
        return command
    }

    /// The keys every script gets: the context and its bucket's stream (in the same slot).
    private func keys(_ address: SessionAddress) -> [String] {
        [address.key, address.streamKey]
    }

    private func appendPreludeArguments(to command: inout RESPCommand, _ address: SessionAddress, _ caller: SessionCaller) {
        command.append(address.tenant)
        command.append(address.sessionId)
        command.append(self.settingsBeforeCaller)
        command.append(caller.scriptArgument)
        command.append(self.settingsAfterCaller)
    }

    /// Runs a write script (after `first`, when given), drops this worker's cached copy when it
    /// applied, counts its event; returns the outcome and the script's whole reply.
    private func write(
        _ script: RedisScript,
        _ command: RESPCommand,
        address: SessionAddress,
        event: SessionEventType? = nil,
        after first: (command: RESPCommand, key: String)? = nil
    ) async throws(RedisError) -> (outcome: SessionWriteOutcome, reply: RESPValue) {
        let reply: RESPValue
        if first != nil || self.configuration.replicaAcknowledgements > 0 {
            reply = try await self.redis.evaluate(
                script, command, key: address.key, after: first,
                replicas: self.configuration.replicaAcknowledgements,
                replicaTimeoutMilliseconds: self.configuration.replicaTimeoutMilliseconds
            )
        } else {
            reply = try await self.redis.evaluate(script, command, key: address.key)
        }
        let outcome = try await self.decode(reply)
        if let cache = self.nearCache, case .applied = outcome {
            // Read-your-writes on this worker: drop the entry before answering.
            cache.invalidate(address)
        }
        if let event, case .applied = outcome { SessionEventMetrics.published(event) }
        return (outcome, reply)
    }

    func decode(_ reply: RESPValue) throws(RedisError) -> SessionWriteOutcome {
        guard let parts = reply.array, let status = parts.first?.int else { throw Self.unexpected(reply) }
        let version = parts.count > 1 ? parts[1].int ?? 0 : 0
        switch status {
        case 0: return .applied(version: version)
        case 1: return .unchanged(version: version)
        case 2: return .notFound
        case 3: return .conflict(currentVersion: version)
        case 4: return .forbidden
        case 5: return .tooManyAttributes(limit: Int(version))
        default: throw Self.unexpected(reply)
        }
    }

    static func unexpected(_ reply: RESPValue) -> RedisError {
        RedisError(.protocolError, "unexpected reply from a session script: \(reply)")
    }
}
