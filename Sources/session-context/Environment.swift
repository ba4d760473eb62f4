import ArgumentParser
import Foundation

/// Reads settings from the environment, for flags that were not given.
enum Environment {
    /// The value of `name`, if set and not empty.
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// The whole number in `name`, if set; one that is not a number stops the command.
    static func int(_ name: String) throws -> Int? {
        guard let text = Self.value(name) else { return nil }
        guard let number = Int(text) else { throw ValidationError("\(name)=\(text) is not a whole number") }
        return number
    }
}
