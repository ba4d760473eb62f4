import SessionStore
import Testing

@Suite("Timestamps")
struct TimestampTests {
    @Test("Epoch milliseconds become UTC ISO-8601 with milliseconds", arguments: [
        (Int64(0), "1970-01-01T00:00:00.000Z"),
        (1, "1970-01-01T00:00:00.001Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (951_782_400_000, "2000-02-29T00:00:00.000Z"),
        (1_770_224_810_134, "2026-02-04T17:06:50.134Z"),
        (253_402_300_799_999, "9999-12-31T23:59:59.999Z"),
    ])
    func iso8601(milliseconds: Int64, expected: String) {
        #expect(Timestamp.iso8601(milliseconds: milliseconds) == expected)
    }
}
