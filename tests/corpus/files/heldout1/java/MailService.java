package net.mesh.billing.mail;

import java.util.Properties;
import javax.mail.Authenticator;
import javax.mail.PasswordAuthentication;
import javax.mail.Session;

public final class MailService {
    private static final String SMTP_HOST = "smtp.office365.com";
    private static final String SMTP_USER = "billing@mesh-example.com";
    private static final String SMTP_PASSWORD = "pgk6IVk92f!02q7ny";
    private static final String PASSWORD_RESET_TEMPLATE = "password-reset.html";
    private static final int PASSWORD_MIN_LENGTH = 12;

    private final String apiToken = System.getenv("MAIL_API_TOKEN");

    public Session session() {
        Properties props = new Properties();
        props.put("mail.smtp.host", SMTP_HOST);
        props.put("mail.smtp.auth", "true");
        props.put("mail.smtp.starttls.enable", "true");
        return Session.getInstance(props, new Authenticator() {
            @Override
            protected PasswordAuthentication getPasswordAuthentication() {
                return new PasswordAuthentication(SMTP_USER, SMTP_PASSWORD);
            }
        });
    }

    static String slackHook() {
        return "https://hooks.slack.com/services/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";
    }
}
