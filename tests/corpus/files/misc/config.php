<?php
return [
    'db' => [
        'host' => 'db.mesh.internal',
        'name' => 'wiki',
        'user' => 'wiki',
        'password' => 'rMBqa8pvGKWo1DUN',
    ],
    'mail' => [
        'transport' => 'smtp',
        'password' => getenv('SMTP_PASSWORD'),
    ],
    'app_key' => 'base64:6XW5p4TB//uphw0hqYFbzEiDjV3j3aTBkN9HD//2XZM=',
    'debug' => false,
];
