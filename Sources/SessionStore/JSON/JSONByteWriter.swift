/// Writes JSON text straight into memory the caller has reserved (see
/// ``NIOCore/ByteBuffer/writeJSON(reserving:_:)``), with none of `ByteBuffer`'s growth,
/// copy-on-write and exclusivity checks per write: the hot path's renderer, where a context's
/// JSON is a few hundred small writes.
///
/// The caller reserves enough: at most ``escapedLength(of:)`` bytes for a string, 24 for a
/// timestamp, 20 for an integer. Writing past the reservation stops the process rather than
/// touching memory it does not own.
struct JSONByteWriter {
    private let base: UnsafeMutableRawPointer
    private let limit: Int
    /// How many bytes have been written.
    private(set) var count = 0

    /// A writer at the start of `memory`.
    init(_ memory: UnsafeMutableRawBufferPointer) {
        self.base = memory.baseAddress!
        self.limit = memory.count
    }

    /// At most how many bytes `length` bytes take as a JSON string literal (every byte escaped as
    /// `\u00XX`, and the quotes).
    static func escapedLength(of length: Int) -> Int { 6 * length + 2 }

    /// Appends one byte.
    mutating func byte(_ byte: UInt8) {
        precondition(self.count < self.limit, "JSONByteWriter: the reservation is too small")
        self.base.storeBytes(of: byte, toByteOffset: self.count, as: UInt8.self)
        self.count += 1
    }

    /// Appends `bytes` as they are.
    mutating func bytes(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        precondition(bytes.count <= self.limit - self.count, "JSONByteWriter: the reservation is too small")
        (self.base + self.count).copyMemory(from: source, byteCount: bytes.count)
        self.count += bytes.count
    }

    /// Appends a literal, such as `"},\"metadata\":{"`.
    mutating func literal(_ text: StaticString) {
        self.bytes(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends the UTF-8 text `bytes` as a JSON string literal, escaped as RFC 8259 requires
    /// (non-ASCII kept as UTF-8).
    mutating func string(_ bytes: UnsafeRawBufferPointer) {
        self.byte(UInt8(ascii: "\""))
        if !bytes.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C }) {
            self.bytes(bytes)
        } else {
            for byte in bytes { self.escaped(byte) }
        }
        self.byte(UInt8(ascii: "\""))
    }

    private mutating func escaped(_ byte: UInt8) {
        switch byte {
        case 0x22: self.literal("\\\"")
        case 0x5C: self.literal("\\\\")
        case 0x0A: self.literal("\\n")
        case 0x0D: self.literal("\\r")
        case 0x09: self.literal("\\t")
        case 0x08: self.literal("\\b")
        case 0x0C: self.literal("\\f")
        case 0..<0x20:
            self.literal("\\u00")
            self.byte(Self.hexDigit(byte >> 4))
            self.byte(Self.hexDigit(byte & 0x0F))
        default: self.byte(byte)
        }
    }

    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// Appends the non-negative `value` in decimal, zero-padded to `minimumDigits`.
    mutating func decimal(_ value: Int, minimumDigits: Int = 1) {
        var digits = 1
        var divisor = 1
        while divisor <= value / 10 {
            divisor *= 10
            digits += 1
        }
        while digits < minimumDigits {
            self.byte(UInt8(ascii: "0"))
            digits += 1
        }
        var rest = value
        while divisor > 0 {
            self.byte(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Appends `milliseconds` since the epoch as UTC ISO-8601 with milliseconds
    /// (`2026-02-04T17:06:50.134Z`, 24 bytes for years 0 to 9999).
    mutating func iso8601(milliseconds: Int64) {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let millis = Int(milliseconds - seconds * 1000)
        var days = seconds / 86_400
        var rest = seconds - days * 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        // Days to civil date, after Howard Hinnant's algorithm.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        self.decimal(Int(max(0, min(year, 9999))), minimumDigits: 4)
        self.byte(UInt8(ascii: "-"))
        self.decimal(Int(month), minimumDigits: 2)
        self.byte(UInt8(ascii: "-"))
        self.decimal(Int(day), minimumDigits: 2)
        self.byte(UInt8(ascii: "T"))
        self.decimal(Int(rest / 3600), minimumDigits: 2)
        self.byte(UInt8(ascii: ":"))
        self.decimal(Int(rest % 3600 / 60), minimumDigits: 2)
        self.byte(UInt8(ascii: ":"))
        self.decimal(Int(rest % 60), minimumDigits: 2)
        self.byte(UInt8(ascii: "."))
        self.decimal(millis, minimumDigits: 3)
        self.byte(UInt8(ascii: "Z"))
    }
}
