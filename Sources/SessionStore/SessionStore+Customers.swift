import RedisClient

extension SessionStore {
    /// The live contexts of `customerId` in `tenant`, by session id (see ``CustomerIndex`` for how
    /// the index stays correct across expiry and cluster slots).
    public func sessions(ofCustomer customerId: String, tenant: String) async throws(RedisError) -> [SessionSnapshot] {
        let index = CustomerIndex(tenant: tenant, customerId: customerId)
        let candidates = try await index.candidates(self.redis)
        var found: [SessionSnapshot] = []
        var stale: [(sessionId: String, score: String)] = []
        // One read per candidate, all in flight at once (on a cluster they go to their own nodes).
        let results = await self.concurrently(candidates) { candidate async throws(RedisError) -> SessionSnapshot? in
            let address = SessionAddress(tenant: tenant, sessionId: candidate.sessionId)
            let reply = try await self.redis.send(Self.hgetall(address.key), key: address.key)
            return SessionSnapshot(sessionId: candidate.sessionId, hgetall: reply)
        }
        for (candidate, result) in zip(candidates, results) {
            switch result {
            case .success(let snapshot?) where snapshot.value(of: .customerId) == customerId:
                found.append(snapshot)
            case .success:
                stale.append(candidate)
            case .failure(let error):
                throw error
            }
        }
        try await index.prune(stale, self.redis)
        return found.sorted { $0.sessionId < $1.sessionId }
    }

    /// Ends every live session of `customerId` in `tenant` ("log out everywhere"); each ended
    /// session publishes its `deleted` event. Returns the ids of the sessions it ended.
    public func endSessions(ofCustomer customerId: String, tenant: String) async throws(RedisError) -> [String] {
        let index = CustomerIndex(tenant: tenant, customerId: customerId)
        let candidates = try await index.candidates(self.redis)
        let results = await self.concurrently(candidates) { candidate async throws(RedisError) -> SessionWriteOutcome in
            try await self.delete(SessionAddress(tenant: tenant, sessionId: candidate.sessionId), onlyOf: customerId)
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
