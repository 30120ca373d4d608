import { Column, Entity, PrimaryColumn, Generated } from 'typeorm';
import { bigintAsNumber } from '../common/bigint.transformer';

/**
 * An API token. Only hashes of the secret and the password are stored; the key
 * is stored in clear because it is how a token is found.
 */
@Entity({ name: 'token' })
export class Token {
  @PrimaryColumn({ name: 'id', type: 'bigint', transformer: bigintAsNumber })
  @Generated('increment') // the migration makes it an identity column; this only tells TypeORM the database assigns it
  id: number;

  @Column({ name: 'token_key', type: 'varchar', length: 64, unique: true })
  key: string;

  /** Hex SHA-256 of `NODEGET` + secret, as NodeGet stores it, so its tokens can be imported. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64 })
  secretHash: string;

  @Column({ name: 'timestamp_from', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  timestampFrom: number | null;

  @Column({ name: 'timestamp_to', type: 'bigint', nullable: true, transformer: bigintAsNumber })
  timestampTo: number | null;

  /** Raw limits as given; parsed on read so unknown kinds survive a round trip. */
  @Column({ name: 'token_limit', type: 'jsonb', default: () => "'[]'::jsonb" })
  limits: unknown;

  /** `token_limit` as the database wrote it, when TokenRepository read it: JSON.parse would round 64-bit integers in it. */
  limitsText?: string;

  @Column({ name: 'username', type: 'varchar', length: 255, nullable: true, unique: true })
  username: string | null;

  @Column({ name: 'password_hash', type: 'text', nullable: true })
  passwordHash: string | null;

  @Column({ name: 'created_at', type: 'bigint', transformer: bigintAsNumber })
  createdAt: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: bigintAsNumber })
  updatedAt: number;
}
