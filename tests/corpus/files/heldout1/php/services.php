<?php

return [
    'mailgun' => [
        'domain' => env('MAILGUN_DOMAIN'),
        'secret' => env('MAILGUN_SECRET'),
        'endpoint' => 'api.eu.mailgun.net',
    ],
    'twilio' => [
        'sid' => 'ACd386344ec08bd4a5df3269f39f7e6b4c',
        'token' => '9625e8cca99be03a88285e5df9c0790c',
        'from' => '+15005550006',
    ],
    'openai' => [
        'key' => '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',
        'organization' => 'org-ywAOqvHOwzfAda6DrRE2dnK2',
    ],
    'password_reset' => [
        'expire' => 60,
        'throttle' => 60,
    ],
];
