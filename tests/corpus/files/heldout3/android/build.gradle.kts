plugins {
    id("com.android.application")
    kotlin("android")
}

android {
    namespace = "net.mesh.app"
    compileSdk = 34
    defaultConfig {
        applicationId = "net.mesh.app"
        minSdk = 26
        buildConfigField("String", "API_BASE", "\"https://api.mesh-example.net\"")
        buildConfigField("String", "API_KEY", "\"VZLd0YNTCT5rkyg0hBnDmhGPZgHmvS4U9gMQ6Jwh\"")
        buildConfigField("String", "SENTRY_DSN", "\"https://1ef39f17d045292ed05506ad720db521@o021739.ingest.sentry.io/2191631\"")
    }
    signingConfigs {
        create("release") {
            storeFile = file("../keys/release.jks")
            storePassword = System.getenv("STORE_PASSWORD")
            keyAlias = "release"
            keyPassword = "lfsHkrWTRfbsAIvkmX"
        }
    }
}
