#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import Synchronization

/// The worker's text log: the lines of swift-log's `StreamLogHandler`, byte for byte
/// (`<time> <level> <label>: <key>=<value> … [<source>] <message>`, the metadata sorted by key),
/// on standard output, rendered by this handler itself.
///
/// Every request writes one such line (the access log), so its cost is every request's cost:
/// under callgrind `StreamLogHandler` spent about 59,000 instructions a line (a quarter of a whole
/// `/health/live` request): two dictionary merges to combine the metadata, sorting and joining
/// string interpolations, and a new `strftime` each time. This handler merges into a small array,
/// renders into one byte buffer, takes the timestamp's text from a cache that changes once a
/// second, and hands the line whole to ``LogOutput`` (batched writes under load). It also keeps
/// the logger's metadata unrendered until a line is written (Hummingbird sets an item on every
/// request's logger).
public struct TextLogHandler: LogHandler {
    /// The metadata of the logger, not yet rendered.
    public var metadata: Logger.Metadata = [:]
    /// The lowest level this handler writes.
    public var logLevel: Logger.Level = .info
    /// The provider of metadata added to every line.
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: Output

    /// A handler for loggers labelled `label`, writing to standard output.
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.init(label: label, metadataProvider: metadataProvider, output: .standardOutput)
    }

    /// A handler for loggers labelled `label` whose lines go to `write`, one call a line (tests).
    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, write: @escaping @Sendable ([UInt8]) -> Void) {
        self.init(label: label, metadataProvider: metadataProvider, output: .function(write))
    }

    private init(label: String, metadataProvider: Logger.MetadataProvider?, output: Output) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.output = output
    }

    /// One item of the logger's metadata.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// Writes `event`'s line: the logger's metadata, the provider's, the event's own (taking
    /// precedence in that order) and the error's, as `StreamLogHandler` combines them.
    public func log(event: LogEvent) {
        var items: [(key: String, value: Logger.Metadata.Value)] = []
        let provided = self.metadataProvider?.get() ?? [:]
        let explicit = event.metadata ?? [:]
        var error: Logger.Metadata = [:]
        if let failure = event.error {
            error = ["error.message": "\(failure)", "error.type": "\(String(reflecting: type(of: failure)))"]
        }
        let layers = [self.metadata, provided, explicit, error]
        items.reserveCapacity(layers.reduce(0) { $0 + $1.count })
        for (index, layer) in layers.enumerated() {
            // A later layer's item wins. Asked by index, not by subscript: a subscript copies the
            // value out (callgrind: 48 copies and 40 destroys of a value a line).
            for item in layer where !layers[(index + 1)...].contains(where: { $0.index(forKey: item.key) != nil }) {
                items.append(item)
            }
        }
        items.sort { $0.key < $1.key }
        self.write(level: event.level, items: items, source: event.source, message: event.message.description)
    }

    /// Renders one line and hands it to the output.
    private func write(level: Logger.Level, items: [(key: String, value: Logger.Metadata.Value)], source: String, message: String) {
        var line = self.lineHead(level: level)
        for (key, value) in items {
            if case .string(let text) = value {
                Self.append(key: key, value: text, to: &line)
            } else {
                Self.append(key: key, value: value.description, to: &line)
            }
        }
        Self.appendTail(source: source, message: message, to: &line)
        self.output.write(line)
    }

    /// A line's time, level and label, up to the colon.
    private func lineHead(level: Logger.Level) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(256)
        Self.append(TimestampText.current(), to: &line)
        line.append(UInt8(ascii: " "))
        Self.append(level.rawValue, to: &line)
        if !self.label.isEmpty {
            line.append(UInt8(ascii: " "))
            Self.append(self.label, to: &line)
        }
        line.append(UInt8(ascii: ":"))
        return line
    }

    /// One ` key=value` item.
    private static func append(key: String, value: String, to line: inout [UInt8]) {
        line.append(UInt8(ascii: " "))
        Self.append(key, to: &line)
        line.append(UInt8(ascii: "="))
        Self.append(value, to: &line)
    }

    /// A line's end: its source and message.
    private static func appendTail(source: String, message: String, to line: inout [UInt8]) {
        line.append(contentsOf: " [".utf8)
        Self.append(source, to: &line)
        line.append(contentsOf: "] ".utf8)
        Self.append(message, to: &line)
        line.append(UInt8(ascii: "\n"))
    }

    /// Appends `text`'s UTF-8 bytes: one copy of its contiguous storage (a native string has one).
    /// Callgrind, an access line's appends: 4,655 instructions through `utf8` views, about 2,600 so.
    private static func append(_ text: String, to line: inout [UInt8]) {
        var text = text
        text.withUTF8 { line.append(contentsOf: $0) }
    }

    /// Where lines go.
    private enum Output: Sendable {
        case standardOutput
        case function(@Sendable ([UInt8]) -> Void)

        func write(_ line: [UInt8]) {
            switch self {
            case .function(let write):
                write(line)
            case .standardOutput:
                line.withUnsafeBytes { LogOutput.standardOutput.write($0) }
            }
        }
    }
}

extension TextLogHandler: AccessLineWriting {
    /// Writes `line` as ``log(event:)`` writes its `logger.info` line, when this handler has no
    /// metadata of its own to merge in.
    func writeAccessLine(_ line: AccessLine) -> Bool {
        guard self.metadata.isEmpty, self.metadataProvider == nil else { return false }
        var text = self.lineHead(level: .info)
        line.forEachItem { key, value in Self.append(key: key, value: value, to: &text) }
        Self.appendTail(source: AccessLine.source, message: AccessLine.message, to: &text)
        self.output.write(text)
        return true
    }
}

/// The local time as `StreamLogHandler` writes it (`%Y-%m-%dT%H:%M:%S%z`), made once a second.
enum TimestampText {
    private static let cache = Mutex<(second: time_t, text: String)>((-1, ""))

    /// The text of the current second.
    static func current() -> String {
        let now = time(nil)
        if let cached = self.cache.withLock({ $0.second == now ? $0.text : nil }) { return cached }
        var local = tm()
        var seconds = now
        guard localtime_r(&seconds, &local) != nil else { return "<unknown>" }
        var buffer = [Int8](repeating: 0, count: 64)
        let length = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        let text = String(decoding: buffer[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.cache.withLock { $0 = (now, text) }
        return text
    }
}
