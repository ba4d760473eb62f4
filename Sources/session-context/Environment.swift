import Foundation

/// Reads settings from the environment, for flags that were not given.
enum Environment {
    /// The value of `name`, if set and not empty.
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}
