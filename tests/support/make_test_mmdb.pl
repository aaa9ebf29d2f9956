#!/usr/bin/perl
# Writes a tiny MaxMind DB (GeoIP2-City layout, location only) for the geo
# unit tests: documentation address ranges only (RFC 5737, RFC 3849).
#   make_test_mmdb.pl OUT.mmdb
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: $0 OUT.mmdb\n";
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version            => 6,
    record_size           => 24,
    remove_reserved_networks => 0,    # our test ranges are documentation ones
    database_type         => 'Lectern-Test-City',
    languages             => ['en'],
    description           => { en => 'Lectern geo test data' },
    map_key_type_callback => sub {
        my $k = shift;
        return $k eq 'location' ? 'map' : $k eq 'city' ? 'utf8_string' : 'double';
    },
);
# Frankfurt, Sydney, and a record with no location at all.
$tree->insert_network('192.0.2.0/24',
    { city => 'Frankfurt', location => { latitude => 50.11, longitude => 8.68 } });
$tree->insert_network('2001:db8::/32',
    { city => 'Sydney', location => { latitude => -33.87, longitude => 151.21 } });
$tree->insert_network('198.51.100.0/24', { city => 'Nowhere' });
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
