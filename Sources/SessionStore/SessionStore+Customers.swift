import RedisClient

extension SessionStore {
    /// The live contexts of `customerId` in `tenant`, by session id (see ``CustomerIndex`` for how
    /// the index stays correct across expiry and cluster slots).
    public func sessions(ofCustomer customerId: String, tenant: String) async throws(RedisError) -> [SessionSnapshot] {
        let found = try await self.checkIndex(ofCustomer: customerId, tenant: tenant) { address async throws(RedisError) in
            let reply = try await self.redis.send(Self.hgetall(address.key), key: address.key)
            let snapshot = SessionSnapshot(sessionId: address.sessionId, hgetall: reply)
            return (snapshot?.value(of: .customerId), snapshot)
        }
        return found.sorted { $0.sessionId < $1.sessionId }
    }

    /// Removes the out-of-date entries of `customerId`'s index in `tenant` under the same rules as
    /// a lookup, reading of each candidate session only its customer (the sweep's check).
    public func pruneIndex(ofCustomer customerId: String, tenant: String) async throws(RedisError) {
        _ = try await self.checkIndex(ofCustomer: customerId, tenant: tenant) { address async throws(RedisError) in
            let reply = try await self.redis.send(RESPCommand("HGET", address.key, StandardField.customerId.storageField), key: address.key)
            return (reply.string, ())
        }
    }

    /// Checks every candidate of `customerId`'s index with `read`, which answers the session's
    /// customer (nil when the session is gone) and what to return for it; removes the candidates
    /// that are not the customer's (rule 3 of ``CustomerIndex``) and returns what `read` gave for
    /// the others.
    private func checkIndex<Found: Sendable>(
        ofCustomer customerId: String,
        tenant: String,
        read: @escaping @Sendable (SessionAddress) async throws(RedisError) -> (customer: String?, found: Found?)
    ) async throws(RedisError) -> [Found] {
        let index = CustomerIndex(tenant: tenant, customerId: customerId)
        let candidates = try await index.candidates(self.redis)
        // One read per candidate, all in flight at once (on a cluster they go to their own nodes).
        let results = await self.concurrently(candidates) { candidate async throws(RedisError) in
            try await read(self.address(tenant: tenant, sessionId: candidate.sessionId))
        }
        var found: [Found] = []
        var stale: [(sessionId: String, score: String)] = []
        for (candidate, result) in zip(candidates, results) {
            switch result {
            case .success(let answer) where answer.customer == customerId:
                if let value = answer.found { found.append(value) }
            case .success:
                stale.append(candidate)
            case .failure(let error):
                throw error
            }
        }
        try await index.prune(stale, self.redis)
        return found
    }

    /// Ends every live session of `customerId` in `tenant` ("log out everywhere"); each ended
    /// session publishes its `deleted` event. Returns the ids of the sessions it ended.
    public func endSessions(ofCustomer customerId: String, tenant: String) async throws(RedisError) -> [String] {
        let index = CustomerIndex(tenant: tenant, customerId: customerId)
        let candidates = try await index.candidates(self.redis)
        let results = await self.concurrently(candidates) { candidate async throws(RedisError) -> SessionWriteOutcome in
            try await self.delete(self.address(tenant: tenant, sessionId: candidate.sessionId), onlyOf: customerId)
        }
        var ended: [String] = []
        // Ended sessions and those that were no longer the customer's leave the index alike.
        var done: [(sessionId: String, score: String)] = []
        var firstError: RedisError?
        for (candidate, result) in zip(candidates, results) {
            switch result {
            case .success(let outcome):
                done.append(candidate)
                if case .applied = outcome { ended.append(candidate.sessionId) }
            case .failure(let error):
                firstError = firstError ?? error
            }
        }
        try await index.prune(done, self.redis)
        if let firstError { throw firstError }
        return ended.sorted()
    }

    /// Runs `body` on every element at once and returns the results in the elements' order.
    private func concurrently<Element: Sendable, Value: Sendable>(
        _ elements: [Element],
        _ body: @escaping @Sendable (Element) async throws(RedisError) -> Value
    ) async -> [Result<Value, RedisError>] {
        await withTaskGroup(of: (Int, Result<Value, RedisError>).self) { group in
            for (offset, element) in elements.enumerated() {
                group.addTask {
                    do throws(RedisError) {
                        return (offset, .success(try await body(element)))
                    } catch {
                        return (offset, .failure(error))
                    }
                }
            }
            var results = [Result<Value, RedisError>?](repeating: nil, count: elements.count)
            for await (offset, result) in group { results[offset] = result }
            return results.map { $0! }
        }
    }
}
