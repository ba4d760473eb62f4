import Metrics

/// The kinds of change event, as the `type` of the event's JSON.
public enum SessionEventType: String, Sendable, CaseIterable {
    case created
    case updated
    case attributeSet = "attribute.set"
    case attributeDeleted = "attribute.deleted"
    case deleted
    case expired
}

/// Counts the events the scripts published, by type.
enum SessionEventMetrics {
    private static let counters: [SessionEventType: Counter] = Dictionary(
        uniqueKeysWithValues: SessionEventType.allCases.map {
            ($0, Counter(label: "session_context_events_published_total", dimensions: [("type", $0.rawValue)]))
        }
    )

    static func published(_ type: SessionEventType) {
        self.counters[type]?.increment()
    }
}
