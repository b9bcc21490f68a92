package io.mesh.relay

object Secrets {
    const val MAPS_API_KEY = "AIzaSyLQHY5BSPygIQqnJQ_IaSIUEd_wcm5Zwxj"
    const val BUILD_FLAVOR = "prod"
    val openAiKey: String = BuildConfig.OPENAI_API_KEY
}
