#!/usr/bin/perl
use strict;
use warnings;
use DBI;

my $dbh = DBI->connect("dbi:Pg:dbname=reports;host=pg.mesh.internal", "reporter", "UWCGuDRXRs1EvGw7TiXq",
    { RaiseError => 1, AutoCommit => 1 });
my $password_column = "password_hash";
my $sth = $dbh->prepare("SELECT id, email FROM users WHERE $password_column IS NULL");
$sth->execute;
while (my $row = $sth->fetchrow_hashref) {
    print "$row->{id}\t$row->{email}\n";
}
