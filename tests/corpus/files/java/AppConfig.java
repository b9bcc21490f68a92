package io.mesh.billing;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Configuration;

@Configuration
public class AppConfig {
    private static final String API_KEY = "WAgxyYDrCyX8fzKZX4tItxEyCxODaWmm";
    private static final String API_KEY_HEADER = "X-Api-Key";
    private static final int TOKEN_TTL_SECONDS = 3600;

    @Value("${billing.stripe.api-key}")
    private String stripeApiKey;

    @Value("${billing.webhook.secret}")
    private String webhookSecret;

    public String apiKey() {
        return API_KEY;
    }

    public String passwordResetUrl(String token) {
        return "https://billing.mesh.example/reset?token=" + token;
    }
}
