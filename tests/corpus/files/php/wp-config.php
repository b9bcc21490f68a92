<?php
define( 'DB_NAME', 'wordpress' );
define( 'DB_USER', 'wp' );
define( 'DB_PASSWORD', 'qZ45VyrbHpexqAm4bztB' );
define( 'DB_HOST', 'db.mesh.internal' );
define( 'DB_CHARSET', 'utf8mb4' );

define( 'AUTH_KEY',         'DJVuWr1A6JhviDJiTfmlfpyckGBxdFiO2d6ILGr5uMpikpMnyF7gacRAOK4j7nqK' );
define( 'SECURE_AUTH_KEY',  'qDY6Sgo2SqdPyfCfJZIOBH0xHe7k0CAYPzD401Avu5Dq4J1emUmHZOAFFnxOhMRb' );
define( 'NONCE_KEY',        'put your unique phrase here' );
define( 'WP_DEBUG', false );
$table_prefix = 'wp_';
require_once ABSPATH . 'wp-settings.php';
