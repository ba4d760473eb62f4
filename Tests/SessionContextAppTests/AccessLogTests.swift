import Foundation
import Testing

@testable import SessionContextApp

@Suite("The access line's duration")
struct AccessLogTests {
    @Test("Milliseconds with two decimals, rounded as %.2f rounds them", arguments: [
        (Duration.zero, "0.00"), (.nanoseconds(4_999), "0.00"), (.nanoseconds(5_001), "0.01"), (.microseconds(213), "0.21"),
        (.microseconds(1_995) + .nanoseconds(1), "2.00"), (.milliseconds(12_345) + .microseconds(678), "12345.68"), (.seconds(3), "3000.00"),
    ])
    func milliseconds(duration: Duration, text: String) {
        #expect(RequestLogMiddleware<AppRequestContext>.milliseconds(duration) == text)
        let (seconds, attoseconds) = duration.components
        #expect(text == String(format: "%.2f", Double(seconds) * 1000 + Double(attoseconds) / 1e15))
    }
}
