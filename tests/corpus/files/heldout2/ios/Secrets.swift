import Foundation

enum Secrets {
    static let revenueCatKey = "appl_YxFmX9FtPS3ZtiaELINH2LR2WNu"
    static let openWeatherKey = "806299c7cc38d048cfe3feba1b1e396a"
    static let backendToken =
        "lQ6KfIlbKF6x19i7zolGypNBzDiyo5QHyef0DFXe"
    static let passwordMinLength = 10
    static let keychainService = "net.mesh.app.token"
}
